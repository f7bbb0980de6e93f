/**
 * onnxruntime-web behind the pipeline's InferenceRuntime (browser only; no Node imports).
 *
 * Backends: WebGPU when the browser exposes a usable adapter, otherwise WASM (SIMD, and
 * multi-threaded when the page is cross-origin isolated so SharedArrayBuffer exists). With
 * `backend: 'auto'` (the default) the choice is automatic; a session that WebGPU cannot create is
 * created on WASM instead. `backend`, `threads` and `notices` say what is in use and why.
 *
 * onnxruntime-web is loaded lazily and only in the flavour needed: 'onnxruntime-web/webgpu' (its
 * WASM part is larger) when WebGPU is usable, 'onnxruntime-web/wasm' otherwise. Its .mjs/.wasm
 * files are fetched from `wasmPaths`: serve node_modules/onnxruntime-web/dist/ yourself and pass its
 * URL (ferkit's web app serves it at /ort/). Bundlers: resolve with the export condition
 * 'onnxruntime-web-use-extern-wasm' so the WASM stays a separate file (see web/vite.config.ts).
 */
import { FerkitError } from '../errors.js';
import type { InferenceRuntime, ModelSession, SessionOptions, TensorData } from '../runtime/types.js';

type Ort = typeof import('onnxruntime-web');
type OrtSession = import('onnxruntime-web').InferenceSession;

export type WebBackend = 'webgpu' | 'wasm';
export type WebBackendPreference = 'auto' | WebBackend;

export interface WebRuntimeOptions {
  /** 'auto' (default): WebGPU if usable, else WASM. 'webgpu' still falls back to WASM, with a notice. */
  backend?: WebBackendPreference;
  /** URL prefix (ending in '/') of onnxruntime-web's dist files; default: onnxruntime-web's own guess. */
  wasmPaths?: string;
  /**
   * WASM threads for every session (onnxruntime-web has one global pool). Default, when cross-origin
   * isolated: one core fewer than navigator.hardwareConcurrency, between 1 and 4 (else 1). The core
   * left over keeps the page's own thread (camera frames, drawing) off the inference threads: on a
   * 2-core machine 1 thread gave 12.9–14.8 analysed frames/s against 10.6–11.8 with 2 (web/measure.mjs).
   */
  threads?: number;
  /**
   * Let idle WASM intra-op threads spin (ONNX Runtime's default). Off by default: on a busy
   * 2-core machine the spinning thread steals the core the work needs (same as src/node/runtime.ts).
   */
  spinning?: boolean;
  /** How to load onnxruntime-web (tests, or apps that ship their own copy). */
  loadOrt?: (flavour: WebBackend) => Promise<Ort>;
}

export interface WebRuntime extends InferenceRuntime {
  /** The backend sessions are created on ('webgpu' or 'wasm' after any fallback). */
  readonly backend: WebBackend;
  /** WASM threads (1 when SharedArrayBuffer is unavailable). */
  readonly threads: number;
  /** Human-readable notes about the choice, e.g. why WebGPU is not used. */
  readonly notices: readonly string[];
  /** The backend each created session runs on, by source name. */
  readonly sessionBackends: ReadonlyMap<string, WebBackend>;
}

interface GpuLike {
  requestAdapter(options?: unknown): Promise<unknown | null>;
}

/** Why WebGPU cannot be used here, or null when an adapter is available. */
export async function webGpuUnavailableReason(): Promise<string | null> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu is missing)';
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? null : 'WebGPU found no usable GPU adapter (GPU disabled, headless or blocklisted)';
  } catch (e) {
    return `WebGPU adapter request failed (${(e as Error).message})`;
  }
}

/** WASM threads when none are asked for: every core but one (see WebRuntimeOptions.threads), 1 to 4. */
export function defaultWasmThreads(cores: number, crossOriginIsolated: boolean): number {
  if (!crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, Math.floor(cores) - 1));
}

/** Whether WASM may run multi-threaded here: SharedArrayBuffer exists and the page is cross-origin isolated. */
function canShareMemory(): boolean {
  return (
    typeof SharedArrayBuffer !== 'undefined' &&
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true
  );
}

const defaultLoadOrt = (flavour: WebBackend): Promise<Ort> =>
  flavour === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm');

/** Creates the runtime: probes WebGPU (unless told 'wasm'), loads onnxruntime-web, sets its WASM options. */
export async function createWebRuntime(options: WebRuntimeOptions = {}): Promise<WebRuntime> {
  const preference = options.backend ?? 'auto';
  if (!['auto', 'webgpu', 'wasm'].includes(preference)) {
    throw new FerkitError('E_INPUT', `backend must be "auto", "webgpu" or "wasm", got ${JSON.stringify(preference)}`);
  }
  const notices: string[] = [];
  let backend: WebBackend = 'wasm';
  if (preference !== 'wasm') {
    const reason = await webGpuUnavailableReason();
    if (reason === null) backend = 'webgpu';
    else notices.push(`WebGPU unavailable: ${reason}; using WASM instead.`);
  }
  const requested = options.threads ?? 0;
  if (!(Number.isInteger(requested) && requested >= 0)) {
    throw new FerkitError('E_INPUT', `threads must be a non-negative integer, got ${requested}`);
  }
  const shared = canShareMemory();
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 2;
  let threads = requested > 0 ? requested : defaultWasmThreads(cores, shared);
  if (threads > 1 && !shared) {
    notices.push('Page is not cross-origin isolated (COOP/COEP headers missing): WASM runs single-threaded.');
    threads = 1;
  }

  const load = options.loadOrt ?? defaultLoadOrt;
  let ort: Ort;
  try {
    ort = await load(backend);
  } catch (e) {
    if (backend !== 'webgpu')
      throw new FerkitError('E_MODEL', `cannot load onnxruntime-web (${(e as Error).message})`, { cause: e });
    notices.push(`onnxruntime-web's WebGPU build failed to load (${(e as Error).message}); using WASM instead.`);
    backend = 'wasm';
    ort = await load('wasm');
  }
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  ort.env.logLevel = 'error';

  const sessionBackends = new Map<string, WebBackend>();

  const extra = options.spinning ? undefined : { session: { intra_op: { allow_spinning: '0' } } };
  const create = async (model: Uint8Array, ep: WebBackend): Promise<OrtSession> =>
    ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all', extra });

  const runtime: WebRuntime = {
    name: 'onnxruntime-web',
    get backend() {
      return backend;
    },
    threads,
    notices,
    sessionBackends,
    async createSession(model: Uint8Array, source: string, _options: SessionOptions = {}): Promise<ModelSession> {
      let session: OrtSession;
      let used: WebBackend = backend;
      try {
        session = await create(model, used);
      } catch (e) {
        if (used !== 'webgpu') {
          throw new FerkitError('E_MODEL', `${source}: not a loadable ONNX model (${firstLine(e)})`, { cause: e });
        }
        notices.push(`${source}: WebGPU could not create the session (${firstLine(e)}); this model runs on WASM.`);
        used = 'wasm';
        try {
          session = await create(model, used);
        } catch (e2) {
          throw new FerkitError('E_MODEL', `${source}: not a loadable ONNX model (${firstLine(e2)})`, { cause: e2 });
        }
      }
      sessionBackends.set(source, used);
      let queue: Promise<unknown> = Promise.resolve();
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        run(feeds: Record<string, TensorData>) {
          // onnxruntime-web refuses concurrent run() on one session: serialise.
          const next = queue.then(async () => {
            const ortFeeds: Record<string, InstanceType<Ort['Tensor']>> = {};
            for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
            const out = await session.run(ortFeeds);
            const result: Record<string, TensorData> = {};
            for (const [name, t] of Object.entries(out)) {
              const data = (
                t.location === 'cpu' || t.location === undefined ? t.data : await t.getData()
              ) as Float32Array;
              result[name] = { data, dims: t.dims };
              if (t.location !== 'cpu' && t.location !== undefined) t.dispose();
            }
            return result;
          });
          queue = next.catch(() => undefined);
          return next;
        },
        dispose: () => session.release(),
      };
    },
  };
  return runtime;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
