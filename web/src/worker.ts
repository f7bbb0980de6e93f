/// <reference lib="webworker" />
/**
 * The inference worker: owns the browser analyzer (onnxruntime-web sessions, tracker) so the page
 * stays responsive. Frames arrive as transferred ImageBitmaps and are analysed one at a time.
 */
import { type BrowserAnalyzer, createBrowserAnalyzer } from '../../src/browser/index.js';
import type { EngineConfig, FromWorker, ToWorker } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let analyzer: BrowserAnalyzer | null = null;
let loading: Promise<void> = Promise.resolve();
let chain: Promise<void> = Promise.resolve();

const post = (m: FromWorker) => scope.postMessage(m);

async function load(config: EngineConfig, modelBaseUrl: string, wasmPaths: string): Promise<void> {
  post({ type: 'loading', config });
  try {
    const next = await createBrowserAnalyzer({
      modelBaseUrl,
      detector: config.detector,
      detectorModel: config.detector !== 'haar' ? config.detectorModel : undefined,
      haarCascade: config.detector === 'haar' ? config.detectorModel : undefined,
      videoDetector: config.videoDetector ?? undefined,
      landmarkModel: config.landmarkModel,
      expressionModel: config.expressionModel,
      runtime: { backend: config.backend, wasmPaths, threads: config.threads || undefined, spinning: config.spinning },
      tta: config.tta,
      scoreThreshold: config.scoreThreshold,
      tracking: { smoothing: config.smoothing, expressionEvery: config.expressionEvery },
      detectEvery: config.detectEvery,
    });
    const previous = analyzer;
    analyzer = next;
    await previous?.dispose();
    const i = next.info;
    post({
      type: 'ready',
      config,
      info: {
        backend: i.backend,
        threads: i.threads,
        notices: i.notices,
        detector: i.detector,
        videoDetector: i.videoDetector,
        landmarks: i.landmarks,
        expression: i.expression,
        loadMs: i.loadMs,
        crossOriginIsolated: scope.crossOriginIsolated,
      },
    });
  } catch (e) {
    post({ type: 'load-error', config, message: (e as Error).message, fallback: analyzer !== null });
  }
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'init':
      // Model loads queue behind each other and behind frames already accepted.
      loading = chain = chain.then(() => load(m.config, m.modelBaseUrl, m.wasmPaths));
      break;
    case 'video-options':
      chain = chain.then(() =>
        analyzer?.setVideoOptions({
          detectEvery: m.detectEvery,
          tracking:
            m.smoothing !== undefined || m.expressionEvery !== undefined
              ? { smoothing: m.smoothing, expressionEvery: m.expressionEvery }
              : undefined,
        }),
      );
      break;
    case 'reset-tracking':
      chain = chain.then(() => analyzer?.resetTracking());
      break;
    case 'frame':
      chain = chain.then(async () => {
        await loading;
        const t = performance.now();
        try {
          if (!analyzer) throw new Error('no model loaded');
          const result = await analyzer.analyze(m.bitmap, { mode: m.mode });
          post({ type: 'result', id: m.id, result, workerMs: performance.now() - t, sentAt: m.sentAt });
        } catch (e) {
          post({ type: 'frame-error', id: m.id, message: (e as Error).message, sentAt: m.sentAt });
        } finally {
          m.bitmap.close();
        }
      });
      break;
  }
};
