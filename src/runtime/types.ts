/**
 * The one seam between the pipeline and an inference engine. Node implements it with
 * onnxruntime-node, the browser with onnxruntime-web; stages only see these interfaces.
 */
export interface TensorData {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  dispose(): Promise<void>;
}

export interface SessionOptions {
  /** Intra-op threads; 0 lets the engine choose. */
  threads?: number;
}

export interface InferenceRuntime {
  readonly name: string;
  /** `source` names the model in error messages (a path or a model id). */
  createSession(model: Uint8Array, source: string, options?: SessionOptions): Promise<ModelSession>;
}
