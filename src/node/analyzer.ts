/**
 * The Node entry point: `createAnalyzer(options)` wires the pipeline stages on onnxruntime-node.
 *
 *   const analyzer = await createAnalyzer({ detector: 'blazeface' });
 *   const result = await analyzer.analyze('photo.jpg');
 *   await analyzer.dispose();
 */
import { DLIB_HOG_MAX_UPSAMPLE } from '../detect/dlib-hog/options.js';
import { SSD_PRECISIONS, type SsdPrecision } from '../detect/ssd.js';
import { FerkitError } from '../errors.js';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { stripUndefined } from '../options.js';
import { type PipelineStages, runPipeline } from '../pipeline/run.js';
import type { AnalysisResult } from '../pipeline/types.js';
import { VideoStream, type VideoStreamOptions } from '../pipeline/video-stream.js';
import type { RgbImage } from '../types.js';
import { type DecodeOptions, decodeImage, type ImageInput } from './decode.js';
import { DEFAULT_EXPRESSION_MODEL, loadExpressionModel } from './expression-model.js';
import { nodeRuntime } from './runtime.js';
import {
  createFaceDetector,
  createLandmarks,
  DEFAULT_DETECTOR_KIND,
  DETECTOR_KINDS,
  type DetectorKind,
  LANDMARK_KINDS,
  type LandmarkKind,
} from './stages.js';

export interface AnalyzerOptions {
  /**
   * Face detector: 'blazeface' (MediaPipe's BlazeFace, default), 'cnn' (face-api's SSD MobileNetV1),
   * 'haar' (OpenCV's frontal-face cascade) or 'dlib' (dlib's HOG detector, get_frontal_face_detector)
   * — the paper used the last two.
   */
  detector?: DetectorKind;
  /**
   * 68-point model: 'ferkit' (ferkit's own, models/ferkit-landmarks.onnx, default: AFW NME 0.060),
   * 'faceapi' (face-api's FaceLandmark68Net, the same network before ferkit's training: 0.079) or
   * 'dlib' (dlib's shape predictor, as in the paper; Debian's libdlib-data). dlib's gets each
   * detector's boxes mapped to dlib's box convention first (src/landmarks/dlib-box-mapping.ts).
   */
  landmarks?: LandmarkKind;
  /**
   * cnn detector only: the SSD build, 'int8' (default: static QDQ quantization, ~2x faster with
   * VNNI, same faces on face-api's demo photos) or 'float' (the converted tfjs weights as they are).
   */
  ssdPrecision?: SsdPrecision;
  /** dlib detector only: times the image is upsampled before detecting, 0..8 (default 1, like dlib's `detector(img, 1)`). */
  dlibUpsample?: number;
  /** dlib landmarks only: the shape predictor file (default /usr/share/dlib/shape_predictor_68_face_landmarks.dat). */
  shapePredictorPath?: string;
  /**
   * Minimum detector confidence, 0..1. Default: the detector's own (0.3 for the 320-px SSD, whose
   * scores on small faces run lower than face-api's 512-px original; Haar keeps its neighbour rule).
   */
  scoreThreshold?: number;
  /** Faces smaller than this many pixels (box side) are ignored (default 24). */
  minFaceSize?: number;
  /** At most this many faces per image, largest scores first (default 100). */
  maxFaces?: number;
  /** Expression model: a name in ferkit's models/ folder or a path to an .onnx with its .json card. */
  expressionModel?: string;
  /** Test-time augmentation for expressions (default: what the model card was calibrated for). */
  tta?: TestTimeAugmentation;
  /** Threads per ONNX session (0 = all cores, the default). */
  threads?: number;
  /** Refuse inputs above this many pixels before decoding (default 40 MP). */
  maxPixels?: number;
  /** Haar cascade XML (default: Debian opencv-data's haarcascade_frontalface_default.xml). */
  cascadePath?: string;
}

export const ANALYZER_DEFAULTS = {
  detector: DEFAULT_DETECTOR_KIND,
  landmarks: 'ferkit',
  minFaceSize: 24,
  maxFaces: 100,
  expressionModel: DEFAULT_EXPRESSION_MODEL,
  threads: 0,
  maxPixels: 40_000_000,
} as const satisfies AnalyzerOptions;

export interface Analyzer {
  readonly options: Readonly<AnalyzerOptions>;
  readonly expressionClassifier: ExpressionClassifier;
  /** Decode (path, encoded bytes or raw pixels) and analyse one image. */
  analyze(input: ImageInput): Promise<AnalysisResult>;
  /** Analyse an already decoded image. */
  analyzeImage(image: RgbImage, decodeMs?: number): Promise<AnalysisResult>;
  decode(input: ImageInput): Promise<RgbImage>;
  /**
   * Consecutive frames of one video on this analyzer's models: faces tracked (ids, smoothed
   * expressions) and, with `detectEvery` N > 1, the detector run every Nth frame only, faces followed
   * by their landmarks in between. Each stream has its own state; the analyzer owns the models.
   */
  videoStream(options?: VideoStreamOptions): VideoStream;
  dispose(): Promise<void>;
}

export async function createAnalyzer(options: AnalyzerOptions = {}): Promise<Analyzer> {
  const opts = { ...ANALYZER_DEFAULTS, ...stripUndefined(options) };
  validateOptions(opts);
  const model = await loadExpressionModel(opts.expressionModel);
  const sessionOptions = { threads: opts.threads };
  const [detector, landmarks, classifier] = await Promise.all([
    createFaceDetector(opts.detector, nodeRuntime, sessionOptions, {
      cascadePath: opts.cascadePath,
      dlibUpsample: opts.dlibUpsample,
      ssdPrecision: opts.ssdPrecision,
    }),
    createLandmarks(nodeRuntime, sessionOptions, opts.landmarks, {
      detector: opts.detector,
      shapePredictorPath: opts.shapePredictorPath,
    }),
    ExpressionClassifier.create(nodeRuntime, model.bytes, model.card, model.path, { tta: opts.tta, ...sessionOptions }),
  ]);
  const stages: PipelineStages = { detector, landmarks, classifier };
  const decodeOptions: DecodeOptions = { maxPixels: opts.maxPixels };
  const detectOptions = { scoreThreshold: opts.scoreThreshold, minFaceSize: opts.minFaceSize, maxFaces: opts.maxFaces };
  let disposed = false;
  const alive = () => {
    if (disposed) throw new FerkitError('E_DISPOSED', 'Analyzer used after dispose()');
  };

  return {
    options: opts,
    expressionClassifier: classifier,
    decode: (input) => decodeImage(input, decodeOptions),
    async analyzeImage(image, decodeMs = 0) {
      alive();
      return runPipeline(stages, image, detectOptions, decodeMs);
    },
    videoStream(o) {
      alive();
      return new VideoStream(stages, detectOptions, o);
    },
    async analyze(input) {
      alive();
      const t = performance.now();
      const image = await decodeImage(input, decodeOptions);
      return runPipeline(stages, image, detectOptions, performance.now() - t);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all([detector.dispose(), landmarks.dispose(), classifier.dispose()]);
    },
  };
}

function validateOptions(o: AnalyzerOptions): void {
  const bad = (field: string, why: string) => {
    throw new FerkitError('E_INPUT', `options.${field}: ${why}`);
  };
  const oneOf = (field: 'detector' | 'landmarks', choices: readonly string[]) => {
    if (!choices.includes(o[field] as string))
      bad(field, `expected ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(o[field])}`);
  };
  oneOf('detector', DETECTOR_KINDS);
  oneOf('landmarks', LANDMARK_KINDS);
  if (o.ssdPrecision !== undefined && !SSD_PRECISIONS.includes(o.ssdPrecision))
    bad('ssdPrecision', `expected "int8" or "float", got ${JSON.stringify(o.ssdPrecision)}`);
  if (
    o.dlibUpsample !== undefined &&
    !(Number.isInteger(o.dlibUpsample) && o.dlibUpsample >= 0 && o.dlibUpsample <= DLIB_HOG_MAX_UPSAMPLE)
  )
    bad('dlibUpsample', `expected an integer in [0, ${DLIB_HOG_MAX_UPSAMPLE}], got ${o.dlibUpsample}`);
  if (o.scoreThreshold !== undefined && !(o.scoreThreshold >= 0 && o.scoreThreshold <= 1))
    bad('scoreThreshold', 'must be between 0 and 1');
  if (!(o.minFaceSize! >= 0)) bad('minFaceSize', 'must be ≥ 0');
  if (!(Number.isInteger(o.maxFaces) && o.maxFaces! > 0)) bad('maxFaces', 'must be a positive integer');
  if (o.tta !== undefined && o.tta !== 'none' && o.tta !== 'flip') bad('tta', 'expected "none" or "flip"');
  if (!(o.maxPixels! > 0)) bad('maxPixels', 'must be > 0');
}
