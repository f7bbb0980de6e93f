/**
 * ferkit for Node: every face, its 68 key points and its 7 FER2013 expression probabilities.
 *
 *   import { createAnalyzer } from 'ferkit';
 *   const analyzer = await createAnalyzer();
 *   const { faces } = await analyzer.analyze('photo.jpg');
 *   await analyzer.dispose();
 *
 * The browser build is `ferkit/browser` (see web/ and README).
 */

export { type AlignmentTemplate, alignFace, FER2013_TEMPLATE } from '../align/align.js';
export { ensureFaceApiModels } from '../convert/main.js';
export type { DetectOptions, FaceDetector } from '../detect/types.js';
export { FerkitError, type FerkitErrorCode, isFerkitError } from '../errors.js';
export type { ExpressionModelCard } from '../expression/card.js';
export {
  ExpressionClassifier,
  type ExpressionClassifierOptions,
  type ExpressionResult,
  type TestTimeAugmentation,
} from '../expression/classifier.js';
export type { LandmarkModel } from '../landmarks/types.js';
export { LandmarkFollowingDetector } from '../pipeline/landmark-follow.js';
export type { AnalysisResult, FaceResult, StageTimings } from '../pipeline/types.js';
export { type VideoFrameAnalysis, VideoStream, type VideoStreamOptions } from '../pipeline/video-stream.js';
export { drawOverlay, type OverlayOptions } from '../render/overlay.js';
export {
  type FaceLayout,
  type LabelLayout,
  type Leader,
  layoutOverlay,
  type OverlayLayoutOptions,
  type PanelPlacement,
} from '../render/panel-layout.js';
export type { InferenceRuntime, ModelSession, TensorData } from '../runtime/types.js';
export { FaceTracker, type TrackedFace, type TrackerOptions } from '../track/tracker.js';
export {
  type Box,
  type Detection,
  EXPRESSION_LABELS,
  type ExpressionLabel,
  type ExpressionProbabilities,
  type GrayImage,
  type Point,
  type RgbImage,
} from '../types.js';
export { ANALYZER_DEFAULTS, type Analyzer, type AnalyzerOptions, createAnalyzer } from './analyzer.js';
export {
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  decodeImage,
  type ImageInput,
  type RawPixels,
} from './decode.js';
export {
  createDlibHogDetector,
  type DlibHogDetectorOptions,
  ensureDlibHogModel,
  loadDlibHogModel,
} from './dlib-hog.js';
export {
  createDlibLandmarks,
  DEFAULT_DLIB_SHAPE_PREDICTOR_PATH,
  type DlibLandmarksOptions,
  loadDlibShapePredictor,
} from './dlib-shape.js';
export { DEFAULT_EXPRESSION_MODEL, loadExpressionModel } from './expression-model.js';
export { drawAnnotated, type RenderOptions, renderAnnotated } from './render.js';
export { nodeRuntime } from './runtime.js';
export {
  DEFAULT_DETECTOR_KIND,
  DETECTOR_KINDS,
  type DetectorKind,
  LANDMARK_KINDS,
  type LandmarkKind,
} from './stages.js';
