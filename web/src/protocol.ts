/** Messages between the page (main.ts) and the inference worker (worker.ts). */
import type { BrowserAnalysis, BrowserAnalyzerInfo, BrowserDetectorKind } from '../../src/browser/index.js';

export interface EngineConfig {
  /** 'blazeface', 'ssd', 'tiny' or 'haar'. */
  detector: BrowserDetectorKind;
  /** Model file names under /models/. */
  detectorModel: string;
  /** A different detector for live video (camera, video files), or null to use `detector`. */
  videoDetector: { detector: BrowserDetectorKind; model: string } | null;
  landmarkModel: string;
  expressionModel: string;
  backend: 'auto' | 'webgpu' | 'wasm';
  /** WASM threads; 0 = automatic. */
  threads: number;
  /** Let idle WASM threads spin (ONNX Runtime's default; off here). */
  spinning: boolean;
  tta: 'none' | 'flip';
  scoreThreshold?: number;
  /** EMA weight of the newest frame (FaceTracker smoothing). */
  smoothing: number;
  detectEvery: number;
  /** Classify each tracked face every Nth frame (FaceTracker expressionEvery). */
  expressionEvery: number;
}

export type ToWorker =
  | { type: 'init'; config: EngineConfig; modelBaseUrl: string; wasmPaths: string }
  | { type: 'frame'; id: number; bitmap: ImageBitmap; mode: 'image' | 'video'; sentAt: number }
  | { type: 'video-options'; smoothing?: number; detectEvery?: number; expressionEvery?: number }
  | { type: 'reset-tracking' };

/**
 * What the page shows about the loaded engine: the analyzer's own info (less the expression card,
 * which stays in the worker), plus whether the worker runs cross-origin isolated (threaded WASM).
 */
export type EngineInfo = Pick<
  BrowserAnalyzerInfo,
  'backend' | 'threads' | 'notices' | 'detector' | 'videoDetector' | 'landmarks' | 'expression' | 'loadMs'
> & { crossOriginIsolated: boolean };

export type FromWorker =
  | { type: 'loading'; config: EngineConfig }
  | { type: 'ready'; info: EngineInfo; config: EngineConfig }
  | { type: 'load-error'; message: string; config: EngineConfig; fallback: boolean }
  | { type: 'result'; id: number; result: BrowserAnalysis; workerMs: number; sentAt: number }
  | { type: 'frame-error'; id: number; message: string; sentAt: number };
