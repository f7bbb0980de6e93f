import * as ort from 'onnxruntime-node';
import { FerkitError } from '../errors.js';
import type { InferenceRuntime, ModelSession, SessionOptions, TensorData } from '../runtime/types.js';

/** onnxruntime-node behind the pipeline's runtime interface. */
export const nodeRuntime: InferenceRuntime = {
  name: 'onnxruntime-node',
  async createSession(model: Uint8Array, source: string, options: SessionOptions = {}): Promise<ModelSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: options.threads ?? 0,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // Spinning intra-op threads burn the other core while they wait: on a 2-core machine with
        // anything else running, that made 2 threads 1.7x slower than 1 (and without it 2 beat 1).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    } catch (e) {
      throw new FerkitError(
        'E_MODEL',
        `${source}: not a loadable ONNX model (${(e as Error).message.split('\n')[0]})`,
        {
          cause: e,
        },
      );
    }
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      async run(feeds: Record<string, TensorData>) {
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
        const out = await session.run(ortFeeds);
        const result: Record<string, TensorData> = {};
        for (const [name, t] of Object.entries(out)) result[name] = { data: t.data as Float32Array, dims: t.dims };
        return result;
      },
      dispose: () => session.release(),
    };
  },
};
