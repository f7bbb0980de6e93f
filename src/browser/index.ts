/**
 * The browser entry point: `createBrowserAnalyzer(options)` wires the shared pipeline stages on
 * onnxruntime-web (WebGPU or WASM). Import it from a bundler (Vite, esbuild, webpack) or a module
 * worker; it never touches Node APIs.
 *
 *   import { createBrowserAnalyzer, drawOverlay } from 'ferkit/browser';
 *
 *   const analyzer = await createBrowserAnalyzer({
 *     modelBaseUrl: '/models/',              // ssd_mobilenetv1_384.onnx, face_landmark_68.onnx, ferkit-resnet-int8.onnx + .json
 *     runtime: { wasmPaths: '/ort/' },       // where node_modules/onnxruntime-web/dist/ is served
 *   });
 *   const result = await analyzer.analyze(document.querySelector('img')!);
 *   drawOverlay(canvas.getContext('2d')!, result.faces, result.width, result.height);
 *   // video: analyze(videoElement, { mode: 'video' }) adds stable ids and EMA-smoothed expressions
 *   await analyzer.dispose();
 *
 * Models are fetched from URLs: `models/` (expression models and their JSON cards) and the
 * converted face-api models (`npm run models` → .cache/models/) must be served by the app.
 */

import { createHaarDetectorFromCascade } from '../detect/haar.js';
import { parseHaarCascade } from '../detect/haar-cascade.js';
import { createSsdDetector, SSD_DEFAULT_INPUT_SIZE } from '../detect/ssd.js';
import { createTinyFaceDetector, TINY_DEFAULT_INPUT_SIZE } from '../detect/tiny.js';
import type { DetectOptions, FaceDetector } from '../detect/types.js';
import { FerkitError } from '../errors.js';
import { type ExpressionModelCard, parseExpressionCard } from '../expression/card.js';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { DEFAULT_EXPRESSION_MODEL } from '../expression/default-model.js';
import { intersectionArea, pointsBox, toRgb } from '../image/ops.js';
import { createLandmarkModel } from '../landmarks/landmark68.js';
import type { LandmarkModel } from '../landmarks/types.js';
import { type PipelineStages, runPipeline } from '../pipeline/run.js';
import type { AnalysisResult, FaceResult } from '../pipeline/types.js';
import type { InferenceRuntime } from '../runtime/types.js';
import { checkTrackerOptions, FaceTracker, type TrackerOptions } from '../track/tracker.js';
import type { Box, Detection, ExpressionProbabilities, RgbImage } from '../types.js';
import { createWebRuntime, type WebBackend, type WebRuntime, type WebRuntimeOptions } from './runtime.js';

export { FerkitError, isFerkitError } from '../errors.js';
export type { AnalysisResult, FaceResult, StageTimings } from '../pipeline/types.js';
export { drawOverlay, type OverlayOptions, PURPLE } from '../render/overlay.js';
export { EXPRESSION_LABELS } from '../types.js';
export type { WebBackend, WebRuntime, WebRuntimeOptions } from './runtime.js';
export { createWebRuntime } from './runtime.js';
export { DEFAULT_EXPRESSION_MODEL };

/** Everything analyze() accepts. */
export type BrowserImageInput =
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLVideoElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | VideoFrame;

export interface BrowserAnalyzerOptions {
  /** URL prefix of the served model files (default '/models/'); relative model names are resolved against it. */
  modelBaseUrl?: string;
  /**
   * 'ssd' (SSD MobileNetV1, default), 'tiny' (face-api's TinyFaceDetector: ~10x fewer operations,
   * for live video on slow devices) or 'haar' (OpenCV's frontal-face cascade, pure JS).
   */
  detector?: 'ssd' | 'tiny' | 'haar';
  /**
   * CNN detector model file or URL. Default: the converter's naming at ferkit's default size,
   * `ssd_mobilenetv1_<SSD_DEFAULT_INPUT_SIZE>.onnx` or `tiny_face_detector_<TINY_DEFAULT_INPUT_SIZE>.onnx`.
   * Its card (same name, .json) gives the input size, else the model's input shape does.
   */
  detectorModel?: string;
  /**
   * Video mode only: a different detector, e.g. `{ detector: 'tiny' }` for live video with the SSD
   * kept for photos. Default: the main detector for both. `model` defaults as for `detectorModel`.
   */
  videoDetector?: { detector: 'ssd' | 'tiny' | 'haar'; model?: string };
  /** Haar cascade XML file or URL (default 'haarcascade_frontalface_default.xml'). */
  haarCascade?: string;
  /** Landmark model file or URL (default 'face_landmark_68.onnx'). */
  landmarkModel?: string;
  /**
   * Expression model .onnx file or URL (default 'ferkit-resnet-int8.onnx'; on WebGPU prefer the float
   * 'ferkit-resnet.onnx'); its card is the same name with .json.
   */
  expressionModel?: string;
  /** Options for onnxruntime-web, or any InferenceRuntime (shared, not disposed by this analyzer). */
  runtime?: WebRuntimeOptions | InferenceRuntime;
  /** Minimum detector confidence, 0..1 (default 0.5). */
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
  detector: 'ssd',
  haarCascade: 'haarcascade_frontalface_default.xml',
  landmarkModel: 'face_landmark_68.onnx',
  expressionModel: `${DEFAULT_EXPRESSION_MODEL}.onnx`,
  scoreThreshold: 0.5,
  minFaceSize: 24,
  maxFaces: 100,
  detectEvery: 1,
} as const;

function isRuntime(r: unknown): r is InferenceRuntime {
  return typeof (r as InferenceRuntime)?.createSession === 'function';
}

function resolveUrl(name: string, base: string): string {
  const origin = (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/';
  return new URL(name, new URL(base, origin)).href;
}

async function fetchBytes(f: typeof fetch, url: string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await f(url);
  } catch (e) {
    throw new FerkitError('E_MODEL', `${what} ${url}: download failed (${(e as Error).message})`, { cause: e });
  }
  if (!res.ok) throw new FerkitError('E_MODEL', `${what} ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length === 0) throw new FerkitError('E_MODEL', `${what} ${url}: empty file`);
  return bytes;
}

async function fetchJson(f: typeof fetch, url: string, what: string): Promise<unknown> {
  const bytes = await fetchBytes(f, url, what);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new FerkitError('E_MODEL', `${what} ${url}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

const withExt = (url: string, ext: string) => url.replace(/(\.[a-z0-9]+)?([?#].*)?$/i, `${ext}$2`);

/** The pixels of any browser image source as RGB (alpha dropped), drawn at its natural size. */
export class FrameReader {
  private canvas: OffscreenCanvas | HTMLCanvasElement | null = null;
  private ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null = null;

  read(input: BrowserImageInput): RgbImage {
    if (typeof ImageData !== 'undefined' && input instanceof ImageData) {
      return toRgb(input.width, input.height, input.data, 4);
    }
    const [width, height] = sourceSize(input);
    if (!(width > 0 && height > 0)) {
      throw new FerkitError(
        'E_INPUT',
        `image source has no pixels yet (${width}x${height}): not loaded or no video frame`,
      );
    }
    const ctx = this.context(width, height);
    ctx.drawImage(input as CanvasImageSource, 0, 0, width, height);
    const data = ctx.getImageData(0, 0, width, height).data;
    return toRgb(width, height, data, 4);
  }

  private context(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
    if (!this.canvas) {
      this.canvas =
        typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : document.createElement('canvas');
    }
    if (this.canvas.width !== width || this.canvas.height !== height || !this.ctx) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.ctx = this.canvas.getContext('2d', { willReadFrequently: true }) as
        | OffscreenCanvasRenderingContext2D
        | CanvasRenderingContext2D
        | null;
      if (!this.ctx) throw new FerkitError('E_INPUT', 'cannot create a 2D canvas context to read pixels');
    }
    return this.ctx;
  }
}

/** Natural pixel size of a browser image source. */
export function sourceSize(input: BrowserImageInput): [number, number] {
  const g = globalThis as Record<string, unknown>;
  const is = (name: string) => typeof g[name] === 'function' && input instanceof (g[name] as new () => unknown);
  if (is('HTMLVideoElement')) return [(input as HTMLVideoElement).videoWidth, (input as HTMLVideoElement).videoHeight];
  if (is('HTMLImageElement'))
    return [(input as HTMLImageElement).naturalWidth, (input as HTMLImageElement).naturalHeight];
  if (is('VideoFrame')) return [(input as VideoFrame).displayWidth, (input as VideoFrame).displayHeight];
  const s = input as { width?: number; height?: number };
  if (typeof s.width === 'number' && typeof s.height === 'number') return [s.width, s.height];
  throw new FerkitError(
    'E_INPUT',
    'analyze(): expected ImageData, ImageBitmap, an <img>, <video> or <canvas>, or a VideoFrame',
  );
}

interface Followed {
  /** Detector box relative to the landmarks' bounding box: [dx, dy, sw, sh] in units of that box. */
  rel: [number, number, number, number];
  score: number;
  box: Box;
  /** Centre velocity in pixels per frame (damped). */
  vx: number;
  vy: number;
}

/**
 * A FaceDetector for video that runs the real detector on key frames only (every Nth frame, and
 * whenever it follows no face) and otherwise returns the boxes implied by the previous frame's
 * landmarks: on a key frame it learns where the detector box sits relative to the points' bounding
 * box, and keeps that relation while the face moves. observe() must get each frame's results.
 */
export class LandmarkFollowingDetector implements FaceDetector {
  readonly name: string;
  detectEvery: number;
  private frame = 0;
  private followed: Followed[] = [];
  private lastKey = true;

  constructor(
    private readonly inner: FaceDetector,
    detectEvery: number,
  ) {
    this.name = `${inner.name}+landmark-follow`;
    this.detectEvery = detectEvery;
  }

  /** Whether the last detect() ran the real detector. */
  get lastWasDetection(): boolean {
    return this.lastKey;
  }

  async detect(image: RgbImage, options?: DetectOptions): Promise<Detection[]> {
    const key = this.detectEvery <= 1 || this.followed.length === 0 || this.frame % this.detectEvery === 0;
    this.frame++;
    this.lastKey = key;
    if (key) return this.inner.detect(image, options);
    return this.followed.map((f) => ({ box: f.box, score: f.score }));
  }

  /** Feed the pipeline's faces for the frame just detected (same order as detect() returned). */
  observe(faces: readonly FaceResult[], width: number, height: number, minFaceSize = 0): void {
    const next: Followed[] = [];
    faces.forEach((face, i) => {
      if (!face.landmarks?.length) return;
      const lb = pointsBox(face.landmarks);
      if (!(lb.width > 1 && lb.height > 1)) return;
      const prev = this.lastKey ? undefined : this.followed[i];
      const d = face.box;
      const rel: Followed['rel'] = prev
        ? prev.rel
        : [(d.x - lb.x) / lb.width, (d.y - lb.y) / lb.height, d.width / lb.width, d.height / lb.height];
      const box = {
        x: lb.x + rel[0] * lb.width,
        y: lb.y + rel[1] * lb.height,
        width: rel[2] * lb.width,
        height: rel[3] * lb.height,
      };
      // Damped constant-velocity prediction of where the face will be on the next frame.
      const pcx = prev ? prev.box.x + prev.box.width / 2 : box.x + box.width / 2;
      const pcy = prev ? prev.box.y + prev.box.height / 2 : box.y + box.height / 2;
      const vx = 0.5 * (box.x + box.width / 2 - pcx) + 0.5 * (prev?.vx ?? 0);
      const vy = 0.5 * (box.y + box.height / 2 - pcy) + 0.5 * (prev?.vy ?? 0);
      const predicted = { ...box, x: box.x + vx, y: box.y + vy };
      // Lost: mostly outside the image, or too small to be a face the detector would report.
      if (intersectionArea(predicted, { x: 0, y: 0, width, height }) < 0.5 * predicted.width * predicted.height) return;
      if (predicted.width < minFaceSize || predicted.height < minFaceSize) return;
      // Two followed faces that converged onto one: keep the first (higher detector score).
      if (
        next.some(
          (n) =>
            intersectionArea(n.box, predicted) >
            0.5 * Math.min(n.box.width * n.box.height, predicted.width * predicted.height),
        )
      )
        return;
      next.push({ rel, score: face.score, box: predicted, vx, vy });
    });
    this.followed = next;
  }

  reset(): void {
    this.followed = [];
    this.frame = 0;
  }

  dispose(): Promise<void> | void {
    return this.inner.dispose();
  }
}

/** Loads the three models (in parallel) on onnxruntime-web and returns an analyzer. */
export async function createBrowserAnalyzer(options: BrowserAnalyzerOptions = {}): Promise<BrowserAnalyzer> {
  const t0 = performance.now();
  const o = { ...BROWSER_DEFAULTS, ...stripUndefined(options) };
  validate(o);
  const f = o.fetch ?? globalThis.fetch.bind(globalThis);
  const url = (name: string) => resolveUrl(name, o.modelBaseUrl);

  const ownRuntime = !isRuntime(o.runtime);
  const runtime: InferenceRuntime = isRuntime(o.runtime) ? o.runtime : await createWebRuntime(o.runtime ?? {});
  const webRuntime = runtime as Partial<WebRuntime>;

  const expressionUrl = url(o.expressionModel);
  const cardUrl = withExt(expressionUrl, '.json');
  type DetectorKind = NonNullable<BrowserAnalyzerOptions['detector']>;
  const detectorUrlOf = (kind: DetectorKind, model?: string) =>
    url(
      kind === 'haar'
        ? (model ?? o.haarCascade)
        : (model ??
            (kind === 'tiny'
              ? `tiny_face_detector_${TINY_DEFAULT_INPUT_SIZE}.onnx`
              : `ssd_mobilenetv1_${SSD_DEFAULT_INPUT_SIZE}.onnx`)),
    );
  const detectorUrl = detectorUrlOf(o.detector, o.detector === 'haar' ? undefined : o.detectorModel);
  const video = o.videoDetector;
  const videoDetectorUrl = video ? detectorUrlOf(video.detector, video.model) : detectorUrl;
  const landmarkUrl = url(o.landmarkModel);

  const loadDetector = async (kind: DetectorKind, source: string): Promise<FaceDetector> => {
    if (kind === 'haar') {
      const xml = new TextDecoder().decode(await fetchBytes(f, source, 'Haar cascade'));
      const haar = createHaarDetectorFromCascade(parseHaarCascade(xml, source));
      return { name: 'haar', detect: (image, d) => haar.detect(image, d), dispose: () => haar.dispose() };
    }
    const [model, card] = await Promise.all([
      fetchBytes(f, source, 'face detector model'),
      fetchJson(f, withExt(source, '.json'), 'face detector card').catch(() => null),
    ]);
    const inputSize = (card as { input?: { inputSize?: number } } | null)?.input?.inputSize;
    const detectorOptions = { model, source, ...(inputSize ? { inputSize } : {}) };
    return kind === 'tiny'
      ? createTinyFaceDetector(runtime, detectorOptions)
      : createSsdDetector(runtime, detectorOptions);
  };
  const loadLandmarks = async (): Promise<LandmarkModel> =>
    createLandmarkModel(runtime, { model: await fetchBytes(f, landmarkUrl, 'landmark model'), source: landmarkUrl });
  const loadClassifier = async (): Promise<ExpressionClassifier> => {
    const [bytes, cardJson] = await Promise.all([
      fetchBytes(f, expressionUrl, 'expression model'),
      fetchJson(f, cardUrl, 'expression model card'),
    ]);
    const card = parseExpressionCard(cardJson, cardUrl);
    return ExpressionClassifier.create(runtime, bytes, card, expressionUrl, { tta: o.tta });
  };

  const settled = await Promise.allSettled([
    loadDetector(o.detector, detectorUrl),
    loadLandmarks(),
    loadClassifier(),
    video ? loadDetector(video.detector, videoDetectorUrl) : Promise.resolve(null),
  ]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value?.dispose() : undefined)));
    throw failed.reason;
  }
  const [detector, landmarks, classifier, videoOnly] = settled.map(
    (s) => (s as PromiseFulfilledResult<unknown>).value,
  ) as [FaceDetector, LandmarkModel, ExpressionClassifier, FaceDetector | null];

  const follower = new LandmarkFollowingDetector(videoOnly ?? detector, o.detectEvery);
  const imageStages: PipelineStages = { detector, landmarks, classifier };
  const videoStages: PipelineStages = { detector: follower, landmarks, classifier };
  let trackerOptions: TrackerOptions = { ...o.tracking };
  let tracker = new FaceTracker(trackerOptions);
  const detectOptions = { scoreThreshold: o.scoreThreshold, minFaceSize: o.minFaceSize, maxFaces: o.maxFaces };
  const reader = new FrameReader();
  let disposed = false;
  const alive = () => {
    if (disposed) throw new FerkitError('E_DISPOSED', 'browser analyzer used after dispose()');
  };

  const info: BrowserAnalyzerInfo = {
    backend: webRuntime.backend ?? runtime.name,
    threads: webRuntime.threads ?? 1,
    notices: [...(webRuntime.notices ?? [])],
    detector: detectorUrl,
    videoDetector: videoDetectorUrl,
    landmarks: landmarkUrl,
    expression: expressionUrl,
    expressionCard: classifier.card,
    loadMs: performance.now() - t0,
  };
  if (webRuntime.sessionBackends && [...webRuntime.sessionBackends.values()].some((b) => b !== info.backend)) {
    info.backend = [...new Set(webRuntime.sessionBackends.values())].join('+');
  }

  const analyzeRgb = async (image: RgbImage, a: AnalyzeOptions = {}, decodeMs = 0): Promise<BrowserAnalysis> => {
    alive();
    if (a.mode !== 'video') {
      const r = await runPipeline(imageStages, image, detectOptions, decodeMs);
      return { ...r, detected: true };
    }
    const r = await runPipeline(videoStages, image, detectOptions, decodeMs, (boxes) =>
      tracker.reusableExpressions(boxes),
    );
    const detected = follower.lastWasDetection;
    follower.observe(r.faces, image.width, image.height, o.minFaceSize);
    return { ...r, faces: tracker.update(r.faces), detected };
  };

  return {
    get backend() {
      return info.backend;
    },
    info,
    analyzeRgb,
    async analyze(input, a) {
      alive();
      const t = performance.now();
      const image = reader.read(input);
      return analyzeRgb(image, a, performance.now() - t);
    },
    setVideoOptions(v) {
      if (v.detectEvery !== undefined) {
        if (!(Number.isInteger(v.detectEvery) && v.detectEvery >= 1)) {
          throw new FerkitError('E_INPUT', `detectEvery must be a positive integer, got ${v.detectEvery}`);
        }
        follower.detectEvery = v.detectEvery;
      }
      if (v.tracking) {
        const next = { ...trackerOptions, ...stripUndefined(v.tracking) };
        tracker = new FaceTracker(next); // throws E_INPUT naming the option before anything changes
        trackerOptions = next;
      }
    },
    resetTracking() {
      tracker.reset();
      follower.reset();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all([detector.dispose(), videoOnly?.dispose(), landmarks.dispose(), classifier.dispose()]);
      if (ownRuntime) {
        /* onnxruntime-web keeps its WASM instance for the page; sessions are released above. */
      }
    },
  };
}

function stripUndefined<T extends object>(v: T): Partial<T> {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as Partial<T>;
}

function validate(o: BrowserAnalyzerOptions): void {
  const bad = (field: string, why: string) => {
    throw new FerkitError('E_INPUT', `options.${field}: ${why}`);
  };
  if (o.detector !== 'ssd' && o.detector !== 'tiny' && o.detector !== 'haar') {
    bad('detector', `expected "ssd", "tiny" or "haar", got ${JSON.stringify(o.detector)}`);
  }
  if (!(o.scoreThreshold! >= 0 && o.scoreThreshold! <= 1)) bad('scoreThreshold', 'must be between 0 and 1');
  if (!(o.minFaceSize! >= 0)) bad('minFaceSize', 'must be ≥ 0');
  if (!(Number.isInteger(o.maxFaces) && o.maxFaces! > 0)) bad('maxFaces', 'must be a positive integer');
  if (!(Number.isInteger(o.detectEvery) && o.detectEvery! >= 1)) bad('detectEvery', 'must be a positive integer');
  if (o.tta !== undefined && o.tta !== 'none' && o.tta !== 'flip') bad('tta', 'expected "none" or "flip"');
  const v = o.videoDetector?.detector;
  if (v !== undefined && v !== 'ssd' && v !== 'tiny' && v !== 'haar') {
    bad('videoDetector.detector', `expected "ssd", "tiny" or "haar", got ${JSON.stringify(v)}`);
  }
  checkTrackerOptions(o.tracking ?? {}, 'options.tracking');
}
