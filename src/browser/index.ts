/**
 * The browser entry point (`ferkit/browser`): `createBrowserAnalyzer(options)` wires the shared
 * pipeline stages on onnxruntime-web (WebGPU or WASM). Import it from a bundler (Vite, esbuild, webpack) or a module
 * worker; it never touches Node APIs.
 *
 *   import { createBrowserAnalyzer, drawOverlay } from 'ferkit/browser';
 *
 *   const analyzer = await createBrowserAnalyzer({
 *     modelBaseUrl: '/models/',              // ssd_mobilenetv1_320.onnx, ferkit-landmarks.onnx, ferkit-resnet-int8.onnx + .json
 *     runtime: { wasmPaths: '/ort/' },       // where node_modules/onnxruntime-web/dist/ is served
 *   });
 *   const result = await analyzer.analyze(document.querySelector('img')!);
 *   drawOverlay(canvas.getContext('2d')!, result.faces, result.width, result.height);
 *   // video: analyze(videoElement, { mode: 'video' }) adds stable ids and EMA-smoothed expressions
 *   await analyzer.dispose();
 *
 * Models are fetched from URLs: `models/` (ferkit's landmark and expression models, with JSON cards) and the
 * converted face-api models (`npm run models` → .cache/models/) must be served by the app.
 */

export { FerkitError, isFerkitError } from '../errors.js';
export { DEFAULT_EXPRESSION_MODEL } from '../expression/default-model.js';
export { ACCEPTED_IMAGE_FORMATS, type ImageFormat, sniffImageFormat } from '../image/format.js';
export { LandmarkFollowingDetector } from '../pipeline/landmark-follow.js';
export type { AnalysisResult, FaceResult, StageTimings } from '../pipeline/types.js';
export { drawOverlay, type OverlayOptions, PURPLE } from '../render/overlay.js';
export {
  type FaceLayout,
  type LabelLayout,
  type Leader,
  layoutOverlay,
  type OverlayLayoutOptions,
  type PanelPlacement,
} from '../render/panel-layout.js';
export { EXPRESSION_LABELS } from '../types.js';
export { createBrowserAnalyzer } from './analyzer.js';
export { type BlobDecodeOptions, decodeImageBlob } from './decode.js';
export { type BrowserImageInput, FrameReader, sourceSize } from './frame-reader.js';
export {
  type AnalyzeOptions,
  BROWSER_DEFAULTS,
  BROWSER_DETECTOR_KINDS,
  type BrowserAnalysis,
  type BrowserAnalyzer,
  type BrowserAnalyzerInfo,
  type BrowserAnalyzerOptions,
  type BrowserDetectorKind,
  type BrowserFace,
} from './options.js';
export type { WebBackend, WebRuntime, WebRuntimeOptions } from './runtime.js';
export { createWebRuntime } from './runtime.js';
