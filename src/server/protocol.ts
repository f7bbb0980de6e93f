/** Messages between the server's main thread and its inference workers. */
import type { AnalyzerOptions } from '../node/analyzer.js';
import type { AnalysisResult } from '../pipeline/types.js';

/** The analyzer options a server passes to each of its workers (threads are always 1 per worker). */
export type WorkerAnalyzerOptions = Pick<
  AnalyzerOptions,
  'detector' | 'landmarks' | 'dlibUpsample' | 'minFaceSize' | 'scoreThreshold' | 'expressionModel' | 'tta'
>;

export interface WorkerConfig extends WorkerAnalyzerOptions {
  maxPixels: number;
  maxBytes: number;
  /** Honour test-only task fields (crash, delay). Never set in production. */
  testHooks?: boolean;
}

export interface AnalyzeTask {
  bytes: Uint8Array;
  /** Also render an annotated image in this format. */
  annotate?: 'jpeg' | 'png';
  /** Test hooks (only honoured when the worker was started with testHooks). */
  crash?: boolean;
  delayMs?: number;
}

export type ToWorker = { type: 'analyze'; id: number; task: AnalyzeTask };

export interface ModelInfo {
  detector: string;
  expression: {
    name: string;
    family: string;
    inputSize: number;
    tta: string;
    parameters: number;
    metrics: Record<string, unknown>;
  };
  landmarks: string;
  threadsPerWorker: number;
}

/** Worker → server; `rss` is the worker process's resident memory when it sent the message. */
export type FromWorker = (
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; result: AnalysisResult; image?: Uint8Array }
  | { type: 'error'; id: number; code: string; message: string }
) & { rss?: number };
