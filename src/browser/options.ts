/** What the browser analyzer accepts and returns, its defaults, and the options check. */

import { FerkitError } from '../errors.js';
import type { ExpressionModelCard } from '../expression/card.js';
import type { TestTimeAugmentation } from '../expression/classifier.js';
import { DEFAULT_EXPRESSION_MODEL } from '../expression/default-model.js';
import { DEFAULT_LANDMARK_MODEL } from '../landmarks/default-model.js';
import type { AnalysisResult, FaceResult } from '../pipeline/types.js';
import type { InferenceRuntime } from '../runtime/types.js';
import { checkTrackerOptions, type TrackerOptions } from '../track/tracker.js';
import type { ExpressionProbabilities, RgbImage } from '../types.js';
import type { BrowserImageInput } from './frame-reader.js';
import type { WebBackend, WebRuntimeOptions } from './runtime.js';

/** The detectors the browser analyzer runs (dlib's HOG detector is Node-only). */
export type BrowserDetectorKind = 'blazeface' | 'ssd' | 'tiny' | 'haar';
export const BROWSER_DETECTOR_KINDS: readonly BrowserDetectorKind[] = ['blazeface', 'ssd', 'tiny', 'haar'];

export interface BrowserAnalyzerOptions {
  /** URL prefix of the served model files (default '/models/'); relative model names are resolved against it. */
  modelBaseUrl?: string;
  /**
   * 'blazeface' (MediaPipe's BlazeFace, default, as in Node), 'ssd' (face-api's SSD MobileNetV1),
   * 'tiny' (face-api's TinyFaceDetector: ~10x fewer operations, for live video on slow devices) or
   * 'haar' (OpenCV's frontal-face cascade, pure JS).
   */
  detector?: BrowserDetectorKind;
  /**
   * CNN detector model file or URL. Default: the converter's file, `blazeface_back.onnx` (0.6 MB),
   * or for the SSD its naming at ferkit's default size and build,
   * `ssd_mobilenetv1_<SSD_DEFAULT_INPUT_SIZE>_int8.onnx` (6 MB; as fast as the 22 MB float
   * `ssd_mobilenetv1_<SSD_DEFAULT_INPUT_SIZE>.onnx` on onnxruntime-web's WASM, outputs within 1e-6 of
   * onnxruntime-node's) or `tiny_face_detector_<TINY_DEFAULT_INPUT_SIZE>.onnx`.
   * Its card (same name, .json) gives the input size, else the model's input shape does.
   */
  detectorModel?: string;
  /**
   * Video mode only: a different detector, e.g. `{ detector: 'tiny' }` for live video with the SSD
   * kept for photos. Default: the main detector for both. `model` defaults as for `detectorModel`.
   */
  videoDetector?: { detector: BrowserDetectorKind; model?: string };
  /** Haar cascade XML file or URL (default 'haarcascade_frontalface_default.xml'). */
  haarCascade?: string;
  /**
   * Landmark model file or URL (default 'ferkit-landmarks.onnx', ferkit's own; face-api's converted
   * 'face_landmark_68.onnx' has the same contract).
   */
  landmarkModel?: string;
  /**
   * Expression model .onnx file or URL (default 'ferkit-resnet-int8.onnx'; on WebGPU prefer the float
   * 'ferkit-resnet.onnx'); its card is the same name with .json.
   */
  expressionModel?: string;
  /** Options for onnxruntime-web, or any InferenceRuntime (shared, not disposed by this analyzer). */
  runtime?: WebRuntimeOptions | InferenceRuntime;
  /** Minimum detector confidence, 0..1 (default: the detector's, as in Node: 0.4 BlazeFace, 0.3 SSD at 320). */
  scoreThreshold?: number;
  /** Faces smaller than this many pixels (box side) are ignored (default 24). */
  minFaceSize?: number;
  /** At most this many faces per image (default 100). */
  maxFaces?: number;
  /** Test-time augmentation for expressions (default: what the model card was calibrated for). */
  tta?: TestTimeAugmentation;
  /**
   * Video mode: tracker settings (ids, EMA smoothing of the probabilities, and `expressionEvery`:
   * classify each tracked face every Nth frame only, reusing its last probabilities in between).
   */
  tracking?: TrackerOptions;
  /**
   * Video mode: run the detector on every Nth frame only and follow known faces by their landmarks
   * in between (boxes re-derived from the 68 points). 1 (default) detects on every frame.
   */
  detectEvery?: number;
  /** fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface AnalyzeOptions {
  /**
   * 'image' (default): each call stands alone. 'video': calls are consecutive frames of one stream:
   * faces get stable ids and smoothed expressions (FaceTracker), and `detectEvery` applies.
   */
  mode?: 'image' | 'video';
}

export interface BrowserFace extends FaceResult {
  /** Track id (video mode). */
  id?: number;
  /** This frame's unsmoothed probabilities (video mode; `expression` holds the smoothed ones). */
  rawProbabilities?: ExpressionProbabilities;
}

export interface BrowserAnalysis extends AnalysisResult {
  faces: BrowserFace[];
  /** False for video frames whose boxes were followed from landmarks instead of detected. */
  detected: boolean;
}

export interface BrowserAnalyzerInfo {
  backend: WebBackend | string;
  threads: number;
  notices: string[];
  /** Detector URL (image mode, and video mode unless videoDetector is set). */
  detector: string;
  /** Detector URL used in video mode. */
  videoDetector: string;
  landmarks: string;
  expression: string;
  expressionCard: ExpressionModelCard;
  /** Milliseconds spent fetching and initialising models. */
  loadMs: number;
}

export interface BrowserAnalyzer {
  /** 'webgpu' or 'wasm' (or the custom runtime's name). */
  readonly backend: string;
  readonly info: BrowserAnalyzerInfo;
  analyze(input: BrowserImageInput, options?: AnalyzeOptions): Promise<BrowserAnalysis>;
  /** Analyse already extracted RGB pixels. */
  analyzeRgb(image: RgbImage, options?: AnalyzeOptions, decodeMs?: number): Promise<BrowserAnalysis>;
  /** Change video-mode settings; any `tracking` change restarts ids. */
  setVideoOptions(options: { tracking?: TrackerOptions; detectEvery?: number }): void;
  /** Forget tracks (e.g. a new video); ids restart at 1. */
  resetTracking(): void;
  dispose(): Promise<void>;
}

export const BROWSER_DEFAULTS = {
  modelBaseUrl: '/models/',
  detector: 'blazeface',
  haarCascade: 'haarcascade_frontalface_default.xml',
  landmarkModel: `${DEFAULT_LANDMARK_MODEL}.onnx`,
  expressionModel: `${DEFAULT_EXPRESSION_MODEL}.onnx`,
  minFaceSize: 24,
  maxFaces: 100,
  detectEvery: 1,
} as const;

export function validateBrowserOptions(o: BrowserAnalyzerOptions): void {
  const bad = (field: string, why: string) => {
    throw new FerkitError('E_INPUT', `options.${field}: ${why}`);
  };
  const kinds = `"${BROWSER_DETECTOR_KINDS.join('", "')}"`;
  if (!BROWSER_DETECTOR_KINDS.includes(o.detector as BrowserDetectorKind)) {
    bad('detector', `expected one of ${kinds}, got ${JSON.stringify(o.detector)}`);
  }
  if (o.scoreThreshold !== undefined && !(o.scoreThreshold >= 0 && o.scoreThreshold <= 1))
    bad('scoreThreshold', 'must be between 0 and 1');
  if (!(o.minFaceSize! >= 0)) bad('minFaceSize', 'must be ≥ 0');
  if (!(Number.isInteger(o.maxFaces) && o.maxFaces! > 0)) bad('maxFaces', 'must be a positive integer');
  if (!(Number.isInteger(o.detectEvery) && o.detectEvery! >= 1)) bad('detectEvery', 'must be a positive integer');
  if (o.tta !== undefined && o.tta !== 'none' && o.tta !== 'flip') bad('tta', 'expected "none" or "flip"');
  const v = o.videoDetector?.detector;
  if (v !== undefined && !BROWSER_DETECTOR_KINDS.includes(v)) {
    bad('videoDetector.detector', `expected one of ${kinds}, got ${JSON.stringify(v)}`);
  }
  checkTrackerOptions(o.tracking ?? {}, 'options.tracking');
}
