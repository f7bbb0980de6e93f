/** The browser analyzer's assembly: fetch the models, load them on onnxruntime-web, wire the stages. */

import { BLAZEFACE_MODEL_FILE, createBlazeFaceDetector } from '../detect/blazeface.js';
import { createHaarDetectorFromCascade } from '../detect/haar.js';
import { parseHaarCascade } from '../detect/haar-cascade.js';
import { createSsdDetector, SSD_DEFAULT_INPUT_SIZE, SSD_DEFAULT_PRECISION, ssdModelFile } from '../detect/ssd.js';
import { createTinyFaceDetector, TINY_DEFAULT_INPUT_SIZE } from '../detect/tiny.js';
import type { FaceDetector } from '../detect/types.js';
import { FerkitError } from '../errors.js';
import { parseExpressionCard } from '../expression/card.js';
import { ExpressionClassifier } from '../expression/classifier.js';
import { createLandmarkModel } from '../landmarks/landmark68.js';
import type { LandmarkModel } from '../landmarks/types.js';
import { stripUndefined } from '../options.js';
import { type PipelineStages, runPipeline } from '../pipeline/run.js';
import { VideoStream } from '../pipeline/video-stream.js';
import type { InferenceRuntime } from '../runtime/types.js';
import { FaceTracker, type TrackerOptions } from '../track/tracker.js';
import type { RgbImage } from '../types.js';
import { FrameReader } from './frame-reader.js';
import { fetchBytes, fetchJson, resolveUrl, withExt } from './model-fetch.js';
import {
  type AnalyzeOptions,
  BROWSER_DEFAULTS,
  type BrowserAnalysis,
  type BrowserAnalyzer,
  type BrowserAnalyzerInfo,
  type BrowserAnalyzerOptions,
  type BrowserDetectorKind,
  validateBrowserOptions,
} from './options.js';
import { createWebRuntime, type WebRuntime } from './runtime.js';

function isRuntime(r: unknown): r is InferenceRuntime {
  return typeof (r as InferenceRuntime)?.createSession === 'function';
}

/** Loads the three models (in parallel) on onnxruntime-web and returns an analyzer. */
export async function createBrowserAnalyzer(options: BrowserAnalyzerOptions = {}): Promise<BrowserAnalyzer> {
  const t0 = performance.now();
  const o = { ...BROWSER_DEFAULTS, ...stripUndefined(options) };
  validateBrowserOptions(o);
  const f = o.fetch ?? globalThis.fetch.bind(globalThis);
  const url = (name: string) => resolveUrl(name, o.modelBaseUrl);

  const ownRuntime = !isRuntime(o.runtime);
  const runtime: InferenceRuntime = isRuntime(o.runtime) ? o.runtime : await createWebRuntime(o.runtime ?? {});
  const webRuntime = runtime as Partial<WebRuntime>;

  const expressionUrl = url(o.expressionModel);
  const cardUrl = withExt(expressionUrl, '.json');
  const defaultModel: Record<BrowserDetectorKind, string> = {
    blazeface: BLAZEFACE_MODEL_FILE,
    ssd: ssdModelFile(SSD_DEFAULT_INPUT_SIZE, SSD_DEFAULT_PRECISION),
    tiny: `tiny_face_detector_${TINY_DEFAULT_INPUT_SIZE}.onnx`,
    haar: o.haarCascade,
  };
  const detectorUrlOf = (kind: BrowserDetectorKind, model?: string) => url(model ?? defaultModel[kind]);
  const detectorUrl = detectorUrlOf(o.detector, o.detector === 'haar' ? undefined : o.detectorModel);
  const video = o.videoDetector;
  const videoDetectorUrl = video ? detectorUrlOf(video.detector, video.model) : detectorUrl;
  const landmarkUrl = url(o.landmarkModel);

  const loadDetector = async (kind: BrowserDetectorKind, source: string): Promise<FaceDetector> => {
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
    if (kind === 'blazeface') return createBlazeFaceDetector(runtime, detectorOptions);
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

  const imageStages: PipelineStages = { detector, landmarks, classifier };
  const detectOptions = { scoreThreshold: o.scoreThreshold, minFaceSize: o.minFaceSize, maxFaces: o.maxFaces };
  let trackerOptions: TrackerOptions = { ...o.tracking };
  const stream = new VideoStream({ detector: videoOnly ?? detector, landmarks, classifier }, detectOptions, {
    detectEvery: o.detectEvery,
    tracker: new FaceTracker(trackerOptions),
  });
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
    return stream.analyze(image, decodeMs);
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
      if (v.detectEvery !== undefined) stream.detectEvery = v.detectEvery; // E_INPUT unless a positive integer
      if (v.tracking) {
        const next = { ...trackerOptions, ...stripUndefined(v.tracking) };
        stream.tracker = new FaceTracker(next); // throws E_INPUT naming the option before anything changes
        trackerOptions = next;
      }
    },
    resetTracking() {
      stream.reset();
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
