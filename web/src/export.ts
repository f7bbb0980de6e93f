/** Per-frame results the page records, and their JSON / CSV exports. */

import type { BrowserAnalysis } from '../../src/browser/index.js';
import { EXPRESSION_LABELS } from '../../src/types.js';

export interface FaceRecord {
  id: number | null;
  box: { x: number; y: number; width: number; height: number };
  score: number;
  label: string;
  /** Shown (smoothed in video mode) probabilities, EXPRESSION_LABELS order. */
  probabilities: Record<string, number>;
  /** The unsmoothed probabilities (video mode): this frame's, or the last classified ones if expressionReused. */
  rawProbabilities?: Record<string, number>;
  /** Video mode: the face was not classified on this frame (its turn comes every Nth frame). */
  expressionReused?: true;
}

export interface FrameRecord {
  /** Running index over everything recorded since the last clear. */
  frame: number;
  source: string;
  /** Media time in ms for videos, ms since the stream started for the camera, 0 for images. */
  timeMs: number;
  width: number;
  height: number;
  /** False when boxes were followed from landmarks instead of detected. */
  detected: boolean;
  timings: BrowserAnalysis['timings'];
  faces: FaceRecord[];
}

const r2 = (v: number) => Math.round(v * 100) / 100;
const r5 = (v: number) => Math.round(v * 1e5) / 1e5;

export function toRecord(frame: number, source: string, timeMs: number, res: BrowserAnalysis): FrameRecord {
  return {
    frame,
    source,
    timeMs: r2(timeMs),
    width: res.width,
    height: res.height,
    detected: res.detected,
    timings: Object.fromEntries(
      Object.entries(res.timings).map(([k, v]) => [k, r2(v)]),
    ) as unknown as BrowserAnalysis['timings'],
    faces: res.faces.map((f) => ({
      id: f.id ?? null,
      box: { x: r2(f.box.x), y: r2(f.box.y), width: r2(f.box.width), height: r2(f.box.height) },
      score: r5(f.score),
      label: f.expression.label,
      probabilities: Object.fromEntries(EXPRESSION_LABELS.map((l) => [l, r5(f.expression.probabilities[l])])),
      ...(f.rawProbabilities
        ? { rawProbabilities: Object.fromEntries(EXPRESSION_LABELS.map((l) => [l, r5(f.rawProbabilities![l])])) }
        : {}),
      ...(f.expressionReused ? { expressionReused: true as const } : {}),
    })),
  };
}

export function toJson(records: readonly FrameRecord[], meta: Record<string, unknown>): string {
  return JSON.stringify({ generator: 'ferkit web', labels: EXPRESSION_LABELS, ...meta, frames: records }, null, 1);
}

const csvCell = (v: string | number | boolean | null) => {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per face (frames without faces get one row with empty face columns). */
export function toCsv(records: readonly FrameRecord[]): string {
  const header = [
    'frame',
    'source',
    'time_ms',
    'detected',
    'face_id',
    'x',
    'y',
    'width',
    'height',
    'score',
    'label',
    ...EXPRESSION_LABELS,
  ];
  const rows = [header.join(',')];
  for (const r of records) {
    const head = [r.frame, r.source, r.timeMs, r.detected];
    if (r.faces.length === 0)
      rows.push([...head, ...Array(header.length - head.length).fill(null)].map(csvCell).join(','));
    for (const f of r.faces) {
      rows.push(
        [
          ...head,
          f.id,
          f.box.x,
          f.box.y,
          f.box.width,
          f.box.height,
          f.score,
          f.label,
          ...EXPRESSION_LABELS.map((l) => f.probabilities[l]),
        ]
          .map(csvCell)
          .join(','),
      );
    }
  }
  return `${rows.join('\n')}\n`;
}

export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
