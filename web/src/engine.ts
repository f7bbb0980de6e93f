/**
 * The engine: which models are served (/models/index.json), the inference worker and its protocol
 * (protocol.ts), the configuration built from the page's controls, and the worker's load replies.
 */
import { DEFAULT_EXPRESSION_MODEL } from '../../src/expression/default-model.js';
import { DEFAULT_LANDMARK_MODEL } from '../../src/landmarks/default-model.js';
import { say, unsay } from './messages.js';
import { type DetectorEntry, el, type ModelIndex, page, params } from './page.js';
import type { EngineConfig, FromWorker, ToWorker } from './protocol.js';

const MODEL_BASE = new URL('models/', new URL('/', location.href)).href;
const ORT_BASE = new URL('ort/', new URL('/', location.href)).href;

export async function loadIndex(): Promise<ModelIndex> {
  try {
    const res = await fetch(new URL('index.json', MODEL_BASE));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as ModelIndex;
  } catch (e) {
    say(
      'index',
      'warn',
      `Could not read the model list (${(e as Error).message}); trying the default models. Serve the app with \`npm start\`.`,
    );
    return {
      detectors: [
        { id: 'ssd', kind: 'ssd', file: 'ssd_mobilenetv1_384.onnx', label: 'SSD MobileNetV1 384 px', bytes: 0 },
      ],
      landmarks: [{ file: `${DEFAULT_LANDMARK_MODEL}.onnx`, bytes: 0 }],
      expression: [
        {
          name: DEFAULT_EXPRESSION_MODEL,
          file: `${DEFAULT_EXPRESSION_MODEL}.onnx`,
          card: `${DEFAULT_EXPRESSION_MODEL}.json`,
          label: DEFAULT_EXPRESSION_MODEL,
          bytes: 0,
        },
      ],
    };
  }
}

export const mb = (b: number) => (b > 0 ? ` · ${(b / 1e6).toFixed(1)} MB` : '');

/** The server's default detector (ferkit's default: BlazeFace), else the SSD whose input is closest to 320 px. */
export function defaultDetector(list: DetectorEntry[]): DetectorEntry | undefined {
  const marked = list.find((d) => d.default);
  if (marked) return marked;
  const ssd = list.filter((d) => d.kind === 'ssd');
  ssd.sort((a, b) => Math.abs((a.inputSize ?? 512) - 320) - Math.abs((b.inputSize ?? 512) - 320));
  return ssd[0] ?? list[0];
}

export const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
export const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

/** "auto": a fast detector for live video and ferkit's default (more accurate) one for photos. */
export function autoDetectors(): { photo: DetectorEntry; video: DetectorEntry } | null {
  const index = page.engine.index;
  const photo = index.detectors.find((d) => d.default);
  const video = index.detectors.find((d) => d.defaultVideo);
  return photo && video ? { photo, video } : null;
}

function currentConfig(): EngineConfig {
  const index = page.engine.index;
  const auto = el.detectorSelect.value === 'auto' ? autoDetectors() : null;
  const det = auto?.photo ?? index.detectors.find((d) => d.id === el.detectorSelect.value) ?? index.detectors[0];
  return {
    detector: det.kind,
    detectorModel: det.file,
    videoDetector: auto ? { detector: auto.video.kind, model: auto.video.file } : null,
    landmarkModel: index.landmarks[0]?.file ?? `${DEFAULT_LANDMARK_MODEL}.onnx`,
    expressionModel: el.modelSelect.value || index.expression[0]?.file,
    backend: el.backendSelect.value as EngineConfig['backend'],
    threads: Number(params.get('threads') ?? 0),
    spinning: params.get('spin') === '1',
    tta: el.ttaBox.checked ? 'flip' : 'none',
    // ?score=X, else each detector's own default (BROWSER_DEFAULTS leaves it to the detector)
    scoreThreshold: params.get('score') === null ? undefined : Number(params.get('score')),
    smoothing: Number(el.ema.value),
    detectEvery: Number(el.detectEverySelect.value),
    expressionEvery: Number(el.expressionEverySelect.value),
  };
}

/** (Re)loads the models the controls select, in the worker. */
export function loadEngine(): void {
  page.status.loading = true;
  page.engine.pending = currentConfig();
  send({ type: 'init', config: page.engine.pending, modelBaseUrl: MODEL_BASE, wasmPaths: ORT_BASE });
}

function selectConfig(c: EngineConfig): void {
  const det = c.videoDetector ? { id: 'auto' } : page.engine.index.detectors.find((d) => d.file === c.detectorModel);
  if (det) el.detectorSelect.value = det.id;
  el.modelSelect.value = c.expressionModel;
  el.backendSelect.value = c.backend;
  el.ttaBox.checked = c.tta === 'flip';
}

function describeConfig(c: EngineConfig): string {
  const index = page.engine.index;
  const label = (file: string) => index.detectors.find((d) => d.file === file)?.label ?? file;
  const det = c.videoDetector
    ? `${label(c.videoDetector.model)} (video) / ${label(c.detectorModel)} (photos)`
    : label(c.detectorModel);
  const expr = index.expression.find((d) => d.file === c.expressionModel)?.label ?? c.expressionModel;
  return `${det} + ${expr} on ${c.backend}`;
}

/** The worker's replies about loading models: status badge, notices and errors. */
export function onEngineMessage(m: Extract<FromWorker, { type: 'loading' | 'ready' | 'load-error' }>): void {
  const { status } = page;
  switch (m.type) {
    case 'loading':
      status.loading = true;
      el.statusBadge.textContent = 'loading models…';
      el.statusBadge.className = 'badge';
      break;
    case 'ready': {
      status.loading = false;
      status.ready = true;
      status.info = m.info;
      status.backend = m.info.backend;
      status.config = page.engine.active = m.config;
      status.readyMs ??= performance.now();
      unsay('model');
      const wasmDesc = `WASM (SIMD, ${m.info.threads} thread${m.info.threads === 1 ? '' : 's'})`;
      el.statusBadge.textContent = m.info.backend.startsWith('webgpu') ? `WebGPU · ${m.info.backend}` : wasmDesc;
      el.statusBadge.className = 'badge ok';
      const gpuNotice = m.info.notices.find((n) => n.startsWith('WebGPU'));
      if (gpuNotice && m.config.backend !== 'wasm') {
        say('webgpu', 'info', `${gpuNotice.replace(/; using WASM instead\.$/, '')} — running on ${wasmDesc} instead.`);
      } else unsay('webgpu');
      const others = m.info.notices.filter((n) => n !== gpuNotice);
      if (others.length) say('runtime', 'warn', others.join(' '));
      else unsay('runtime');
      el.perfInfo.textContent = `models loaded in ${(m.info.loadMs / 1000).toFixed(1)} s · ${m.info.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}`;
      break;
    }
    case 'load-error': {
      status.loading = false;
      const what = describeConfig(m.config);
      const active = page.engine.active;
      if (m.fallback && active) {
        say('model', 'error', `Could not load ${what}: ${m.message}. Still using ${describeConfig(active)}.`);
        selectConfig(active);
        el.statusBadge.className = 'badge ok';
        el.statusBadge.textContent = status.backend ?? '';
      } else {
        say('model', 'error', `Could not load ${what}: ${m.message}. Pick another model above.`);
        el.statusBadge.textContent = 'no model loaded';
      }
      break;
    }
  }
}

/** Waits while models load; false when none could be loaded. */
export function engineReady(): Promise<boolean> {
  return new Promise((resolve) => {
    const check = () => {
      if (page.status.ready && !page.status.loading) resolve(true);
      else if (!page.status.loading) resolve(page.status.ready);
      else setTimeout(check, 50);
    };
    check();
  });
}
