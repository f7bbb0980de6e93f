/**
 * ferkit's web app: camera / image / video → inference worker → overlay (shared drawOverlay),
 * with FPS and per-stage latency, model choice, snapshot and JSON/CSV export.
 */
import type { BrowserAnalysis, BrowserFace } from '../../src/browser/index.js';
import { DEFAULT_EXPRESSION_MODEL } from '../../src/expression/default-model.js';
import { drawOverlay } from '../../src/render/overlay.js';
import { EXPRESSION_LABELS } from '../../src/types.js';
import { download, type FrameRecord, toCsv, toJson, toRecord } from './export.js';
import type { EngineConfig, EngineInfo, FromWorker, ToWorker } from './protocol.js';

// ---------------------------------------------------------------- elements

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const still = $<HTMLCanvasElement>('still');
const overlay = $<HTMLCanvasElement>('overlay');
const stage = $<HTMLDivElement>('stage');
const placeholder = $<HTMLDivElement>('placeholder');
const facesPanel = $<HTMLDivElement>('faces');
const statusBadge = $<HTMLDivElement>('status');
const messagesBox = $<HTMLDivElement>('messages');
const cameraSelect = $<HTMLSelectElement>('camera-select');
const resolutionSelect = $<HTMLSelectElement>('resolution');
const cameraStart = $<HTMLButtonElement>('camera-start');
const cameraStop = $<HTMLButtonElement>('camera-stop');
const fileInput = $<HTMLInputElement>('file-input');
const detectorSelect = $<HTMLSelectElement>('detector-select');
const modelSelect = $<HTMLSelectElement>('model-select');
const backendSelect = $<HTMLSelectElement>('backend-select');
const ttaBox = $<HTMLInputElement>('tta');
const showBoxes = $<HTMLInputElement>('show-boxes');
const showPoints = $<HTMLInputElement>('show-points');
const showBars = $<HTMLInputElement>('show-bars');
const syncBox = $<HTMLInputElement>('sync');
const ema = $<HTMLInputElement>('ema');
const emaValue = $<HTMLOutputElement>('ema-value');
const detectEverySelect = $<HTMLSelectElement>('detect-every');
const expressionEverySelect = $<HTMLSelectElement>('expression-every');
const fpsEl = $<HTMLSpanElement>('fps');
const perfInfo = $<HTMLParagraphElement>('perf-info');
const recordCount = $<HTMLSpanElement>('record-count');

// ---------------------------------------------------------------- messages

type MsgKind = 'error' | 'warn' | 'info';
interface Msg {
  key: string;
  kind: MsgKind;
  text: string;
}
const messages = new Map<string, Msg>();

/** Shows (or replaces) the message with this key; the rest of the page keeps working. */
function say(key: string, kind: MsgKind, text: string): void {
  messages.set(key, { key, kind, text });
  renderMessages();
}
function unsay(key: string): void {
  if (messages.delete(key)) renderMessages();
}
function renderMessages(): void {
  messagesBox.replaceChildren(
    ...[...messages.values()].map((m) => {
      const div = document.createElement('div');
      div.className = `msg ${m.kind}`;
      div.dataset.key = m.key;
      div.setAttribute('role', m.kind === 'error' ? 'alert' : 'status');
      const span = document.createElement('span');
      span.textContent = m.text;
      const close = document.createElement('button');
      close.type = 'button';
      close.title = 'Dismiss';
      close.textContent = '×';
      close.onclick = () => unsay(m.key);
      div.append(span, close);
      return div;
    }),
  );
  state.messages = [...messages.values()].map(({ key, kind, text }) => ({ key, kind, text }));
}

// ---------------------------------------------------------------- state exposed for tests and debugging

interface PageState {
  ready: boolean;
  loading: boolean;
  backend: string | null;
  info: EngineInfo | null;
  config: EngineConfig | null;
  source: 'camera' | 'video' | 'image' | null;
  fps: number;
  framesAnalysed: number;
  framesWithFaces: number;
  /** ms from page start to the first result with at least one face. */
  firstFaceMs: number | null;
  /** ms from page start to the engine being ready. */
  readyMs: number | null;
  lastResult: BrowserAnalysis | null;
  /** Face counts of the last 300 analysed frames. */
  faceCounts: number[];
  messages: { key: string; kind: MsgKind; text: string }[];
  cameraFps: number;
  /** Faces summed over all analysed video frames, and the highest track id given out. */
  facesSeen: number;
  maxId: number;
}
const state: PageState = {
  ready: false,
  loading: false,
  backend: null,
  info: null,
  config: null,
  source: null,
  fps: 0,
  framesAnalysed: 0,
  framesWithFaces: 0,
  firstFaceMs: null,
  readyMs: null,
  lastResult: null,
  faceCounts: [],
  messages: [],
  cameraFps: 0,
  facesSeen: 0,
  maxId: 0,
};
(window as unknown as { __ferkit: PageState }).__ferkit = state;

// ---------------------------------------------------------------- model index

interface DetectorEntry {
  id: string;
  kind: 'ssd' | 'tiny' | 'haar';
  file: string;
  label: string;
  inputSize?: number;
  bytes: number;
  /** ferkit's default detector (SSD_DEFAULT_INPUT_SIZE): used for photos in "auto". */
  default?: boolean;
  /** The tiny detector at its default size: used for live video in "auto". */
  defaultVideo?: boolean;
}
interface ExpressionEntry {
  name: string;
  file: string;
  card: string;
  label: string;
  bytes: number;
}
interface ModelIndex {
  detectors: DetectorEntry[];
  landmarks: { file: string; bytes: number }[];
  expression: ExpressionEntry[];
}

const MODEL_BASE = new URL('models/', new URL('/', location.href)).href;
const ORT_BASE = new URL('ort/', new URL('/', location.href)).href;
const params = new URLSearchParams(location.search);

async function loadIndex(): Promise<ModelIndex> {
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
      landmarks: [{ file: 'face_landmark_68.onnx', bytes: 0 }],
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

const mb = (b: number) => (b > 0 ? ` · ${(b / 1e6).toFixed(1)} MB` : '');

/** The server's default detector (ferkit's default SSD size), else the SSD whose input is closest to 320 px. */
function defaultDetector(list: DetectorEntry[]): DetectorEntry | undefined {
  const marked = list.find((d) => d.default);
  if (marked) return marked;
  const ssd = list.filter((d) => d.kind === 'ssd');
  ssd.sort((a, b) => Math.abs((a.inputSize ?? 512) - 320) - Math.abs((b.inputSize ?? 512) - 320));
  return ssd[0] ?? list[0];
}

// ---------------------------------------------------------------- worker

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
let activeConfig: EngineConfig | null = null;
let pendingConfig: EngineConfig | null = null;
let index: ModelIndex;

/** "auto": a fast detector for live video and ferkit's default (more accurate) one for photos. */
function autoDetectors(): { photo: DetectorEntry; video: DetectorEntry } | null {
  const photo = index.detectors.find((d) => d.default && d.kind === 'ssd');
  const video = index.detectors.find((d) => d.defaultVideo);
  return photo && video ? { photo, video } : null;
}

function currentConfig(): EngineConfig {
  const auto = detectorSelect.value === 'auto' ? autoDetectors() : null;
  const det = auto?.photo ?? index.detectors.find((d) => d.id === detectorSelect.value) ?? index.detectors[0];
  return {
    detector: det.kind,
    detectorModel: det.file,
    videoDetector: auto ? { detector: auto.video.kind, model: auto.video.file } : null,
    landmarkModel: index.landmarks[0]?.file ?? 'face_landmark_68.onnx',
    expressionModel: modelSelect.value || index.expression[0]?.file,
    backend: backendSelect.value as EngineConfig['backend'],
    threads: Number(params.get('threads') ?? 0),
    spinning: params.get('spin') === '1',
    tta: ttaBox.checked ? 'flip' : 'none',
    scoreThreshold: Number(params.get('score') ?? 0.5),
    smoothing: Number(ema.value),
    detectEvery: Number(detectEverySelect.value),
    expressionEvery: Number(expressionEverySelect.value),
  };
}

function loadEngine(): void {
  state.loading = true;
  pendingConfig = currentConfig();
  send({ type: 'init', config: pendingConfig, modelBaseUrl: MODEL_BASE, wasmPaths: ORT_BASE });
}

function selectConfig(c: EngineConfig): void {
  const det = c.videoDetector ? { id: 'auto' } : index.detectors.find((d) => d.file === c.detectorModel);
  if (det) detectorSelect.value = det.id;
  modelSelect.value = c.expressionModel;
  backendSelect.value = c.backend;
  ttaBox.checked = c.tta === 'flip';
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'loading':
      state.loading = true;
      statusBadge.textContent = 'loading models…';
      statusBadge.className = 'badge';
      break;
    case 'ready': {
      state.loading = false;
      state.ready = true;
      state.info = m.info;
      state.backend = m.info.backend;
      state.config = activeConfig = m.config;
      state.readyMs ??= performance.now();
      unsay('model');
      const wasmDesc = `WASM (SIMD, ${m.info.threads} thread${m.info.threads === 1 ? '' : 's'})`;
      statusBadge.textContent = m.info.backend.startsWith('webgpu') ? `WebGPU · ${m.info.backend}` : wasmDesc;
      statusBadge.className = 'badge ok';
      const gpuNotice = m.info.notices.find((n) => n.startsWith('WebGPU'));
      if (gpuNotice && m.config.backend !== 'wasm') {
        say('webgpu', 'info', `${gpuNotice.replace(/; using WASM instead\.$/, '')} — running on ${wasmDesc} instead.`);
      } else unsay('webgpu');
      const others = m.info.notices.filter((n) => n !== gpuNotice);
      if (others.length) say('runtime', 'warn', others.join(' '));
      else unsay('runtime');
      perfInfo.textContent = `models loaded in ${(m.info.loadMs / 1000).toFixed(1)} s · ${m.info.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}`;
      pump();
      break;
    }
    case 'load-error': {
      state.loading = false;
      const what = describeConfig(m.config);
      if (m.fallback && activeConfig) {
        say('model', 'error', `Could not load ${what}: ${m.message}. Still using ${describeConfig(activeConfig)}.`);
        selectConfig(activeConfig);
        statusBadge.className = 'badge ok';
        statusBadge.textContent = state.backend ?? '';
      } else {
        say('model', 'error', `Could not load ${what}: ${m.message}. Pick another model above.`);
        statusBadge.textContent = 'no model loaded';
      }
      break;
    }
    case 'result':
      showAnalysedFrame(m.id);
      onResult(m.id, m.result, m.sentAt);
      break;
    case 'frame-error':
      dropDisplayFrames(m.id);
      frameTimes.delete(m.id);
      inFlight = Math.max(0, inFlight - 1);
      if (state.ready) say('frame', 'warn', `A frame could not be analysed: ${m.message}`);
      pump();
      break;
  }
};
worker.onerror = (e) => say('worker', 'error', `The inference worker failed: ${e.message}`);

function describeConfig(c: EngineConfig): string {
  const label = (file: string) => index.detectors.find((d) => d.file === file)?.label ?? file;
  const det = c.videoDetector
    ? `${label(c.videoDetector.model)} (video) / ${label(c.detectorModel)} (photos)`
    : label(c.detectorModel);
  const expr = index.expression.find((d) => d.file === c.expressionModel)?.label ?? c.expressionModel;
  return `${det} + ${expr} on ${c.backend}`;
}

// ---------------------------------------------------------------- sources

let stream: MediaStream | null = null;
let running = false; // a video source (camera or file) is being analysed
let sourceName = '';
let sourceStart = 0;
let frameId = 0;
let inFlight = 0;
let lastMediaTime = -1;
const frameTimes = new Map<number, number>();
let grabbedMediaTime = -2;
const cameraFrameTimes: number[] = [];

function showSource(kind: 'camera' | 'video' | 'image'): void {
  state.source = kind;
  placeholder.hidden = true;
  const isVideo = kind !== 'image';
  video.hidden = !isVideo;
  still.hidden = isVideo;
  video.classList.toggle('live', isVideo);
}

function stopVideo(): void {
  running = false;
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  video.pause();
  if (video.srcObject) video.srcObject = null;
  if (video.src) {
    URL.revokeObjectURL(video.src);
    video.removeAttribute('src');
    video.load();
  }
  cameraStop.disabled = true;
}

async function listCameras(): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
  const current = cameraSelect.value;
  cameraSelect.replaceChildren(
    new Option('default camera', ''),
    ...devices.map((d, i) => new Option(d.label || `camera ${i + 1}`, d.deviceId)),
  );
  if ([...cameraSelect.options].some((o) => o.value === current)) cameraSelect.value = current;
}

async function startCamera(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    say(
      'camera',
      'error',
      'This page cannot use a camera here: it needs a secure context (https or localhost) and a browser with getUserMedia. You can still analyse image and video files.',
    );
    return;
  }
  const [width, height] = resolutionSelect.value.split('x').map(Number);
  const deviceId = cameraSelect.value;
  stopVideo();
  cameraStart.disabled = true;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        deviceId: deviceId ? { exact: deviceId } : undefined,
        width: { ideal: width },
        height: { ideal: height },
      },
    });
  } catch (e) {
    cameraStart.disabled = false;
    const name = (e as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      say(
        'camera',
        'error',
        'Camera permission was denied. Allow camera access for this site in the browser (the camera icon in the address bar) and press “Start camera” again — meanwhile you can analyse an image or video file.',
      );
    } else if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
      say(
        'camera',
        'error',
        'No camera was found. Connect a camera and press “Start camera”, or analyse an image or video file instead.',
      );
    } else if (name === 'NotReadableError' || name === 'AbortError') {
      say('camera', 'error', 'The camera could not be started: another application may be using it.');
    } else {
      say('camera', 'error', `The camera could not be started: ${(e as Error).message || name}`);
    }
    return;
  }
  unsay('camera');
  cameraStart.disabled = false;
  cameraStop.disabled = false;
  void listCameras();
  const track = stream.getVideoTracks()[0];
  sourceName = `camera: ${track?.label ?? 'camera'}`;
  video.srcObject = stream;
  await video.play().catch(() => undefined);
  const s = track?.getSettings();
  if (s?.width && s.height && (s.width !== width || s.height !== height)) {
    say('resolution', 'info', `The camera delivers ${s.width} × ${s.height} (asked for ${width} × ${height}).`);
  } else unsay('resolution');
  beginVideo('camera');
}

function beginVideo(kind: 'camera' | 'video'): void {
  showSource(kind);
  send({ type: 'reset-tracking' });
  sourceStart = performance.now();
  running = true;
  lastMediaTime = -1;
  grabbedMediaTime = -2;
  cameraFrameTimes.length = 0;
  watchFrames();
}

/** Tracks new video frames (requestVideoFrameCallback where available, else animation frames). */
function watchFrames(): void {
  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (!running) return;
      lastMediaTime = meta.mediaTime;
      cameraFrameTimes.push(performance.now());
      pump();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    const tick = () => {
      if (!running) return;
      if (video.currentTime !== lastMediaTime) {
        lastMediaTime = video.currentTime;
        cameraFrameTimes.push(performance.now());
      }
      pump();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}

/**
 * Frames sent and not yet answered. 2 keeps the worker busy while the page grabs and transfers the
 * next frame (throughput) at the cost of up to one frame more latency; frames beyond that are skipped.
 */
const MAX_IN_FLIGHT = Number(params.get('inflight') ?? 2);

/** Sends the current video frame to the worker unless it is busy (frames are skipped, never queued). */
function pump(): void {
  if (!running || !state.ready || inFlight >= MAX_IN_FLIGHT) return;
  if (lastMediaTime === grabbedMediaTime || video.readyState < 2) return;
  grabbedMediaTime = lastMediaTime;
  inFlight++;
  const sentAt = performance.now();
  const id = ++frameId;
  // The frame's time: media time for video files, time since the stream started for the camera.
  frameTimes.set(id, state.source === 'video' ? lastMediaTime * 1000 : sentAt - sourceStart);
  createImageBitmap(video)
    .then(async (bitmap) => {
      if (syncBox.checked) displayFrames.set(id, await createImageBitmap(bitmap));
      send({ type: 'frame', id, bitmap, mode: 'video', sentAt }, [bitmap]);
    })
    .catch((e) => {
      inFlight--;
      say('frame', 'warn', `Could not read a video frame: ${(e as Error).message}`);
    });
}

async function openFile(file: File): Promise<void> {
  if (file.type.startsWith('video/') || /\.(mp4|webm|mov|mkv|ogv|m4v)$/i.test(file.name)) {
    stopVideo();
    sourceName = file.name;
    video.srcObject = null;
    video.src = URL.createObjectURL(file);
    video.loop = false;
    try {
      await video.play();
    } catch (e) {
      say('file', 'error', `Cannot play ${file.name}: ${(e as Error).message}. Try an MP4 (H.264) or WebM file.`);
      return;
    }
    unsay('file');
    beginVideo('video');
    return;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    say('file', 'error', `Cannot read ${file.name}: not an image or video this browser can decode.`);
    return;
  }
  unsay('file');
  stopVideo();
  sourceName = file.name;
  still.width = bitmap.width;
  still.height = bitmap.height;
  still.getContext('2d')!.drawImage(bitmap, 0, 0);
  showSource('image');
  clearOverlay(bitmap.width, bitmap.height);
  facesPanel.replaceChildren();
  if (!(await engineReady())) {
    say('file', 'error', `Cannot analyse ${file.name}: no model is loaded (see the message above).`);
    return;
  }
  inFlight++;
  send({ type: 'frame', id: ++frameId, bitmap, mode: 'image', sentAt: performance.now() }, [bitmap]);
}

/** Waits while models load; false when none could be loaded. */
function engineReady(): Promise<boolean> {
  return new Promise((resolve) => {
    const check = () => {
      if (state.ready && !state.loading) resolve(true);
      else if (!state.loading) resolve(state.ready);
      else setTimeout(check, 50);
    };
    check();
  });
}

video.addEventListener('ended', () => {
  if (state.source !== 'video') return;
  running = false;
  say(
    'file',
    'info',
    `${sourceName} finished: ${records.filter((r) => r.source === sourceName).length} frames analysed. Export them below.`,
  );
});
video.addEventListener('error', () => {
  if (state.source === 'video' && video.src)
    say('file', 'error', `Cannot decode ${sourceName}: ${video.error?.message || 'unsupported video'}`);
});

// ---------------------------------------------------------------- analysed frames (sync mode)

/** Copies of the frames sent for analysis, shown with their results when "Show analysed frames" is on. */
const displayFrames = new Map<number, ImageBitmap>();

function dropDisplayFrames(upTo: number): void {
  for (const [id, bmp] of displayFrames) {
    if (id > upTo) continue;
    bmp.close();
    displayFrames.delete(id);
  }
}

function showAnalysedFrame(id: number): void {
  const bmp = displayFrames.get(id);
  displayFrames.delete(id);
  dropDisplayFrames(id);
  if (!bmp) return;
  if (syncBox.checked && running) {
    if (still.width !== bmp.width || still.height !== bmp.height) {
      still.width = bmp.width;
      still.height = bmp.height;
    }
    still.getContext('2d')!.drawImage(bmp, 0, 0);
    still.hidden = false;
    video.hidden = true;
  }
  bmp.close();
}

syncBox.onchange = () => {
  if (state.source === 'camera' || state.source === 'video') {
    still.hidden = !syncBox.checked;
    video.hidden = syncBox.checked;
  }
  if (!syncBox.checked) dropDisplayFrames(Number.MAX_SAFE_INTEGER);
};

// ---------------------------------------------------------------- results

const records: FrameRecord[] = [];
const MAX_RECORDS = 50_000;
const resultTimes: number[] = [];
const stageAvg: Record<string, number> = {};
let lastDrawn: BrowserAnalysis | null = null;

function onResult(id: number, result: BrowserAnalysis, sentAt: number): void {
  inFlight = Math.max(0, inFlight - 1);
  const now = performance.now();
  state.framesAnalysed++;
  state.lastResult = result;
  state.faceCounts.push(result.faces.length);
  if (state.faceCounts.length > 300) state.faceCounts.shift();
  if (result.faces.length > 0) {
    state.framesWithFaces++;
    state.firstFaceMs ??= now;
  }
  unsay('frame');
  if (state.source !== 'image') {
    resultTimes.push(now);
    state.facesSeen += result.faces.length;
    for (const f of result.faces) state.maxId = Math.max(state.maxId, f.id ?? 0);
  }
  for (const [k, v] of Object.entries({ ...result.timings, e2e: now - sentAt })) {
    if (k === 'detect' && !result.detected) continue; // followed frames: no detector run
    stageAvg[k] = stageAvg[k] === undefined ? v : 0.85 * stageAvg[k] + 0.15 * v;
  }
  const t = frameTimes.get(id) ?? 0;
  frameTimes.delete(id);
  if (records.length < MAX_RECORDS) records.push(toRecord(records.length, sourceName, t, result));
  draw(result);
  renderFaces(result.faces);
  pump();
}

function clearOverlay(width: number, height: number): CanvasRenderingContext2D {
  if (overlay.width !== width || overlay.height !== height) {
    overlay.width = width;
    overlay.height = height;
  }
  const ctx = overlay.getContext('2d')!;
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

function overlayOptions(faces: readonly BrowserFace[]) {
  return {
    boxes: showBoxes.checked,
    points: showPoints.checked,
    bars: showBars.checked,
    ids: faces.map((f, i) => f.id ?? i + 1),
  };
}

function draw(result: BrowserAnalysis): void {
  lastDrawn = result;
  const ctx = clearOverlay(result.width, result.height);
  drawOverlay(ctx, result.faces, result.width, result.height, overlayOptions(result.faces));
}

function renderFaces(faces: readonly BrowserFace[]): void {
  facesPanel.replaceChildren(
    ...faces.map((f, i) => {
      const div = document.createElement('div');
      div.className = 'face';
      div.dataset.face = String(f.id ?? i + 1);
      const h = document.createElement('h3');
      const top = f.expression.label;
      h.textContent = `#${f.id ?? i + 1} ${top} ${Math.round(f.expression.probabilities[top] * 100)}%`;
      div.append(h);
      for (const label of EXPRESSION_LABELS) {
        const p = f.expression.probabilities[label];
        const row = document.createElement('div');
        row.className = 'p';
        row.dataset.label = label;
        row.dataset.prob = String(p);
        const name = document.createElement('span');
        name.textContent = label;
        const bar = document.createElement('span');
        bar.className = 'bar';
        const fill = document.createElement('i');
        fill.style.width = `${(p * 100).toFixed(1)}%`;
        bar.append(fill);
        const pct = document.createElement('span');
        pct.className = 'pct';
        pct.textContent = `${(p * 100).toFixed(1)}%`;
        row.append(name, bar, pct);
        div.append(row);
      }
      return div;
    }),
  );
}

function updateStats(): void {
  const now = performance.now();
  while (resultTimes.length && now - resultTimes[0] > 2000) resultTimes.shift();
  while (cameraFrameTimes.length && now - cameraFrameTimes[0] > 2000) cameraFrameTimes.shift();
  const rate = (ts: number[]) => (ts.length >= 2 ? ((ts.length - 1) * 1000) / (ts[ts.length - 1] - ts[0]) : 0);
  state.fps = running || state.source === 'camera' ? rate(resultTimes) : 0;
  state.cameraFps = rate(cameraFrameTimes);
  fpsEl.textContent = state.source === 'image' ? '–' : state.fps.toFixed(1);
  fpsEl.title = `video delivers ${state.cameraFps.toFixed(1)} frames/s`;
  for (const td of document.querySelectorAll<HTMLTableCellElement>('#latency td')) {
    const v = stageAvg[td.dataset.stage!];
    td.textContent = v === undefined ? '–' : `${v.toFixed(1)} ms`;
  }
  recordCount.textContent = String(records.length);
}
setInterval(updateStats, 250);

// ---------------------------------------------------------------- output

function composeSnapshot(): HTMLCanvasElement | null {
  const r = lastDrawn;
  const fromStill = state.source === 'image' || (syncBox.checked && !still.hidden);
  const w = fromStill ? still.width : video.videoWidth;
  const h = fromStill ? still.height : video.videoHeight;
  if (!state.source || !w || !h) return null;
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  ctx.drawImage(fromStill ? still : video, 0, 0, w, h);
  if (r) drawOverlay(ctx, r.faces, r.width, r.height, overlayOptions(r.faces));
  return c;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

$('snapshot').onclick = () => {
  const c = composeSnapshot();
  if (!c) return say('output', 'info', 'Nothing to snapshot yet: start the camera or open a file.');
  c.toBlob((blob) => blob && download(blob, `ferkit-${stamp()}.png`), 'image/png');
};
const meta = () => ({
  backend: state.backend,
  config: activeConfig,
  userAgent: navigator.userAgent,
  exportedAt: new Date().toISOString(),
});
$('export-json').onclick = () =>
  download(new Blob([toJson(records, meta())], { type: 'application/json' }), `ferkit-${stamp()}.json`);
$('export-csv').onclick = () => download(new Blob([toCsv(records)], { type: 'text/csv' }), `ferkit-${stamp()}.csv`);
$('clear-log').onclick = (e) => {
  e.preventDefault();
  records.length = 0;
  updateStats();
};
(window as unknown as { __ferkitExport: unknown }).__ferkitExport = {
  json: () => toJson(records, meta()),
  csv: () => toCsv(records),
  /** The snapshot PNG as a data: URL (what "Snapshot PNG" downloads). */
  snapshot: () => composeSnapshot()?.toDataURL('image/png') ?? null,
};

// ---------------------------------------------------------------- controls

cameraStart.onclick = () => void startCamera();
cameraStop.onclick = () => {
  stopVideo();
  state.source = null;
};
cameraSelect.onchange = () => {
  if (stream) void startCamera();
};
resolutionSelect.onchange = () => {
  if (stream) void startCamera();
};
fileInput.onchange = () => {
  const f = fileInput.files?.[0];
  if (f) void openFile(f);
  fileInput.value = '';
};
stage.addEventListener('dragover', (e) => {
  e.preventDefault();
  stage.classList.add('drag');
});
stage.addEventListener('dragleave', () => stage.classList.remove('drag'));
stage.addEventListener('drop', (e) => {
  e.preventDefault();
  stage.classList.remove('drag');
  const f = e.dataTransfer?.files?.[0];
  if (f) void openFile(f);
});
for (const box of [showBoxes, showPoints, showBars]) box.onchange = () => lastDrawn && draw(lastDrawn);
ema.oninput = () => {
  emaValue.textContent = Number(ema.value).toFixed(2);
};
ema.onchange = () => send({ type: 'video-options', smoothing: Number(ema.value) });
detectEverySelect.onchange = () => send({ type: 'video-options', detectEvery: Number(detectEverySelect.value) });
expressionEverySelect.onchange = () =>
  send({ type: 'video-options', expressionEvery: Number(expressionEverySelect.value) });
for (const s of [detectorSelect, modelSelect, backendSelect]) s.onchange = () => loadEngine();
ttaBox.onchange = () => loadEngine();
navigator.mediaDevices?.addEventListener?.('devicechange', () => void listCameras());

// ---------------------------------------------------------------- start

async function main(): Promise<void> {
  if (!crossOriginIsolated) {
    say(
      'isolation',
      'warn',
      'This page is not cross-origin isolated (COOP/COEP headers missing), so inference runs single-threaded. Serve it with `npm start`.',
    );
  }
  index = await loadIndex();
  if (index.detectors.length === 0 || index.expression.length === 0) {
    say('index', 'error', 'No models are being served: run `npm run models` and check the models/ folder.');
  }
  const auto = autoDetectors();
  detectorSelect.replaceChildren(
    ...(auto ? [new Option(`Auto: ${auto.video.label} for video, ${auto.photo.label} for photos`, 'auto')] : []),
    ...index.detectors.map((d) => new Option(`${d.label}${mb(d.bytes)}`, d.id)),
  );
  modelSelect.replaceChildren(...index.expression.map((m) => new Option(`${m.label}${mb(m.bytes)}`, m.file)));
  const wanted = params.get('detector');
  const det =
    wanted === 'auto' && auto
      ? { id: 'auto' }
      : (index.detectors.find((d) => d.id === wanted || d.file === wanted) ??
        (auto ? { id: 'auto' } : defaultDetector(index.detectors)));
  if (det) detectorSelect.value = det.id;
  const model = params.get('model');
  if (model)
    modelSelect.value = index.expression.find((m) => m.name === model || m.file === model)?.file ?? modelSelect.value;
  if (params.get('backend')) backendSelect.value = params.get('backend')!;
  if (params.get('tta')) ttaBox.checked = params.get('tta') === 'flip';
  if (params.get('detectEvery')) detectEverySelect.value = params.get('detectEvery')!;
  if (params.get('expressionEvery')) expressionEverySelect.value = params.get('expressionEvery')!;
  if (params.get('sync')) syncBox.checked = params.get('sync') === '1';
  if (params.get('smoothing')) {
    ema.value = params.get('smoothing')!;
    emaValue.textContent = Number(ema.value).toFixed(2);
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    say(
      'camera',
      'warn',
      'No camera access here (needs https or localhost). You can still analyse image and video files.',
    );
  } else {
    await listCameras().catch(() => undefined);
    if (
      cameraSelect.options.length <= 1 &&
      !(await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'videoinput')
    ) {
      say('camera', 'info', 'No camera detected. You can still analyse image and video files.');
    }
  }
  loadEngine();
  if (params.get('camera') === '1') void startCamera();
}

void main();
