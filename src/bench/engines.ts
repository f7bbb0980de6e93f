/**
 * The two inference engines the per-model timing suites (`bench expression`, `bench landmarks`)
 * compare: onnxruntime-node, and onnxruntime-web's WASM backend run in Node (the browser app's
 * engine without WebGPU).
 */
import { createWebRuntime } from '../browser/runtime.js';
import { nodeRuntime } from '../node/runtime.js';
import type { InferenceRuntime } from '../runtime/types.js';

export type BenchEngine = 'node' | 'wasm';
export const BENCH_ENGINES: readonly BenchEngine[] = ['node', 'wasm'];

/** How a report names each engine. */
export const BENCH_ENGINE_LABEL: Record<BenchEngine, string> = {
  node: 'onnxruntime-node',
  wasm: 'onnxruntime-web WASM',
};

/** The runtime of one engine (WASM with `threads` threads; onnxruntime-node takes threads per session). */
export async function benchRuntime(engine: BenchEngine, threads: number): Promise<InferenceRuntime> {
  return engine === 'node' ? nodeRuntime : createWebRuntime({ backend: 'wasm', threads });
}
