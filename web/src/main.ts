/**
 * ferkit's web app: camera / image / video → inference worker → overlay (shared drawOverlay),
 * with FPS and per-stage latency, model choice, snapshot and JSON/CSV export. This file wires the
 * controls and the worker's replies to the modules that do the work:
 *   page.ts      elements and the page's state (one typed object; window.__ferkit)
 *   messages.ts  the message list          engine.ts   model index, worker, configuration
 *   sources.ts   camera, files, frame pump  panels.ts   overlay, face panels, statistics
 *   output.ts    snapshot and export        protocol.ts page ⇄ worker messages
 */
import { autoDetectors, defaultDetector, loadEngine, loadIndex, mb, onEngineMessage, send, worker } from './engine.js';
import { say } from './messages.js';
import { wireOutput } from './output.js';
import { el, page, params } from './page.js';
import { draw, onResult, updateStats } from './panels.js';
import type { FromWorker } from './protocol.js';
import {
  dropDisplayFrames,
  listCameras,
  openFile,
  pump,
  showAnalysedFrame,
  startCamera,
  stopVideo,
  watchVideoFile,
} from './sources.js';

// ---------------------------------------------------------------- worker replies

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'loading':
    case 'load-error':
      onEngineMessage(m);
      break;
    case 'ready':
      onEngineMessage(m);
      pump();
      break;
    case 'result':
      showAnalysedFrame(m.id);
      onResult(m.id, m.result, m.sentAt);
      pump();
      break;
    case 'frame-error':
      dropDisplayFrames(m.id);
      page.source.frameTimes.delete(m.id);
      page.source.inFlight = Math.max(0, page.source.inFlight - 1);
      if (page.status.ready) say('frame', 'warn', `A frame could not be analysed: ${m.message}`);
      pump();
      break;
  }
};
worker.onerror = (e) => say('worker', 'error', `The inference worker failed: ${e.message}`);

// ---------------------------------------------------------------- controls

watchVideoFile();
wireOutput();
setInterval(updateStats, 250);

el.syncBox.onchange = () => {
  const { still, video, syncBox } = el;
  if (page.status.source === 'camera' || page.status.source === 'video') {
    still.hidden = !syncBox.checked;
    video.hidden = syncBox.checked;
  }
  if (!syncBox.checked) dropDisplayFrames(Number.MAX_SAFE_INTEGER);
};
el.cameraStart.onclick = () => void startCamera();
el.cameraStop.onclick = () => {
  stopVideo();
  page.status.source = null;
};
el.cameraSelect.onchange = () => {
  if (page.source.stream) void startCamera();
};
el.resolutionSelect.onchange = () => {
  if (page.source.stream) void startCamera();
};
el.fileInput.onchange = () => {
  const f = el.fileInput.files?.[0];
  if (f) void openFile(f);
  el.fileInput.value = '';
};
el.stage.addEventListener('dragover', (e) => {
  e.preventDefault();
  el.stage.classList.add('drag');
});
el.stage.addEventListener('dragleave', () => el.stage.classList.remove('drag'));
el.stage.addEventListener('drop', (e) => {
  e.preventDefault();
  el.stage.classList.remove('drag');
  const f = e.dataTransfer?.files?.[0];
  if (f) void openFile(f);
});
for (const box of [el.showBoxes, el.showPoints, el.showBars]) {
  box.onchange = () => page.results.lastDrawn && draw(page.results.lastDrawn);
}
el.ema.oninput = () => {
  el.emaValue.textContent = Number(el.ema.value).toFixed(2);
};
el.ema.onchange = () => send({ type: 'video-options', smoothing: Number(el.ema.value) });
el.detectEverySelect.onchange = () => send({ type: 'video-options', detectEvery: Number(el.detectEverySelect.value) });
el.expressionEverySelect.onchange = () =>
  send({ type: 'video-options', expressionEvery: Number(el.expressionEverySelect.value) });
for (const s of [el.detectorSelect, el.modelSelect, el.backendSelect]) s.onchange = () => loadEngine();
el.ttaBox.onchange = () => loadEngine();
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
  const index = await loadIndex();
  page.engine.index = index;
  if (index.detectors.length === 0 || index.expression.length === 0) {
    say('index', 'error', 'No models are being served: run `npm run models` and check the models/ folder.');
  }
  const auto = autoDetectors();
  el.detectorSelect.replaceChildren(
    ...(auto ? [new Option(`Auto: ${auto.video.label} for video, ${auto.photo.label} for photos`, 'auto')] : []),
    ...index.detectors.map((d) => new Option(`${d.label}${mb(d.bytes)}`, d.id)),
  );
  el.modelSelect.replaceChildren(...index.expression.map((m) => new Option(`${m.label}${mb(m.bytes)}`, m.file)));
  const wanted = params.get('detector');
  const det =
    wanted === 'auto' && auto
      ? { id: 'auto' }
      : (index.detectors.find((d) => d.id === wanted || d.file === wanted) ??
        (auto ? { id: 'auto' } : defaultDetector(index.detectors)));
  if (det) el.detectorSelect.value = det.id;
  const model = params.get('model');
  if (model)
    el.modelSelect.value =
      index.expression.find((m) => m.name === model || m.file === model)?.file ?? el.modelSelect.value;
  if (params.get('backend')) el.backendSelect.value = params.get('backend')!;
  if (params.get('tta')) el.ttaBox.checked = params.get('tta') === 'flip';
  for (const [key, select] of [
    ['detectEvery', el.detectEverySelect],
    ['expressionEvery', el.expressionEverySelect],
  ] as const) {
    // ?detectEvery=6: a whole number the list lacks gets its own entry (a bare .value = '6' left the
    // select empty, the engine read 0 and never analysed a frame); anything else keeps the default.
    const n = Number(params.get(key));
    if (!(Number.isInteger(n) && n >= 1)) continue;
    if (![...select.options].some((o) => o.value === String(n))) select.add(new Option(`${n} frames`, String(n)));
    select.value = String(n);
  }
  if (params.get('sync')) el.syncBox.checked = params.get('sync') === '1';
  if (params.get('smoothing')) {
    el.ema.value = params.get('smoothing')!;
    el.emaValue.textContent = Number(el.ema.value).toFixed(2);
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
      el.cameraSelect.options.length <= 1 &&
      !(await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'videoinput')
    ) {
      say('camera', 'info', 'No camera detected. You can still analyse image and video files.');
    }
  }
  loadEngine();
  if (params.get('camera') === '1') void startCamera();
}

void main();
