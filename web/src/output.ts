/** Output: the snapshot PNG (picture + overlay) and the JSON/CSV export of the frame log. */
import { drawOverlay } from '../../src/render/overlay.js';
import { download, toCsv, toJson } from './export.js';
import { say } from './messages.js';
import { el, page } from './page.js';
import { overlayOptions, updateStats } from './panels.js';

function composeSnapshot(): HTMLCanvasElement | null {
  const { still, video } = el;
  const r = page.results.lastDrawn;
  const fromStill = page.status.source === 'image' || (el.syncBox.checked && !still.hidden);
  const w = fromStill ? still.width : video.videoWidth;
  const h = fromStill ? still.height : video.videoHeight;
  if (!page.status.source || !w || !h) return null;
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  ctx.drawImage(fromStill ? still : video, 0, 0, w, h);
  if (r) drawOverlay(ctx, r.faces, r.width, r.height, overlayOptions(r.faces));
  return c;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

const meta = () => ({
  backend: page.status.backend,
  config: page.engine.active,
  userAgent: navigator.userAgent,
  exportedAt: new Date().toISOString(),
});

/** Wires the snapshot, export and clear buttons, and window.__ferkitExport for tests. */
export function wireOutput(): void {
  const records = page.results.records;
  el.byId('snapshot').onclick = () => {
    const c = composeSnapshot();
    if (!c) return say('output', 'info', 'Nothing to snapshot yet: start the camera or open a file.');
    c.toBlob((blob) => blob && download(blob, `ferkit-${stamp()}.png`), 'image/png');
  };
  el.byId('export-json').onclick = () =>
    download(new Blob([toJson(records, meta())], { type: 'application/json' }), `ferkit-${stamp()}.json`);
  el.byId('export-csv').onclick = () =>
    download(new Blob([toCsv(records)], { type: 'text/csv' }), `ferkit-${stamp()}.csv`);
  el.byId('clear-log').onclick = (e) => {
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
}
