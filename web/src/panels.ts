/** Results: the overlay on the picture, one panel per face, the frame log, and the speed figures. */
import type { BrowserAnalysis, BrowserFace } from '../../src/browser/index.js';
import { drawOverlay } from '../../src/render/overlay.js';
import { EXPRESSION_LABELS } from '../../src/types.js';
import { toRecord } from './export.js';
import { unsay } from './messages.js';
import { el, page } from './page.js';

const MAX_RECORDS = 50_000;

/** Takes one analysed frame's result: statistics, the frame log, the overlay and the face panels. */
export function onResult(id: number, result: BrowserAnalysis, sentAt: number): void {
  const { status, source, results } = page;
  source.inFlight = Math.max(0, source.inFlight - 1);
  const now = performance.now();
  status.framesAnalysed++;
  status.lastResult = result;
  status.faceCounts.push(result.faces.length);
  if (status.faceCounts.length > 300) status.faceCounts.shift();
  if (result.faces.length > 0) {
    status.framesWithFaces++;
    status.firstFaceMs ??= now;
  }
  unsay('frame');
  if (status.source !== 'image') {
    results.resultTimes.push(now);
    status.facesSeen += result.faces.length;
    for (const f of result.faces) status.maxId = Math.max(status.maxId, f.id ?? 0);
  }
  const stageAvg = results.stageAvg;
  for (const [k, v] of Object.entries({ ...result.timings, e2e: now - sentAt })) {
    if (k === 'detect' && !result.detected) continue; // followed frames: no detector run
    stageAvg[k] = stageAvg[k] === undefined ? v : 0.85 * stageAvg[k] + 0.15 * v;
  }
  const t = source.frameTimes.get(id) ?? 0;
  source.frameTimes.delete(id);
  if (results.records.length < MAX_RECORDS)
    results.records.push(toRecord(results.records.length, source.name, t, result));
  draw(result);
  renderFaces(result.faces);
}

export function clearOverlay(width: number, height: number): CanvasRenderingContext2D {
  const { overlay } = el;
  if (overlay.width !== width || overlay.height !== height) {
    overlay.width = width;
    overlay.height = height;
  }
  const ctx = overlay.getContext('2d')!;
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

/** What the overlay shows, from the page's check boxes. */
export function overlayOptions(faces: readonly BrowserFace[]) {
  return {
    boxes: el.showBoxes.checked,
    points: el.showPoints.checked,
    bars: el.showBars.checked,
    ids: faces.map((f, i) => f.id ?? i + 1),
  };
}

export function draw(result: BrowserAnalysis): void {
  page.results.lastDrawn = result;
  const ctx = clearOverlay(result.width, result.height);
  drawOverlay(ctx, result.faces, result.width, result.height, overlayOptions(result.faces));
}

function renderFaces(faces: readonly BrowserFace[]): void {
  el.facesPanel.replaceChildren(
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

/** Frame rates over the last 2 s, smoothed stage latencies and the log size (every 250 ms). */
export function updateStats(): void {
  const { status, source, results } = page;
  const now = performance.now();
  while (results.resultTimes.length && now - results.resultTimes[0] > 2000) results.resultTimes.shift();
  while (source.cameraFrameTimes.length && now - source.cameraFrameTimes[0] > 2000) source.cameraFrameTimes.shift();
  const rate = (ts: number[]) => (ts.length >= 2 ? ((ts.length - 1) * 1000) / (ts[ts.length - 1] - ts[0]) : 0);
  status.fps = source.running || status.source === 'camera' ? rate(results.resultTimes) : 0;
  status.cameraFps = rate(source.cameraFrameTimes);
  el.fpsEl.textContent = status.source === 'image' ? '–' : status.fps.toFixed(1);
  el.fpsEl.title = `video delivers ${status.cameraFps.toFixed(1)} frames/s`;
  for (const td of document.querySelectorAll<HTMLTableCellElement>('#latency td')) {
    const v = results.stageAvg[td.dataset.stage!];
    td.textContent = v === undefined ? '–' : `${v.toFixed(1)} ms`;
  }
  el.recordCount.textContent = String(results.records.length);
}
