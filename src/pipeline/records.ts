/** Result records shared by every surface (CLI, server, queue): JSON, JSON Lines or CSV (one row per face). */

import { EXPRESSION_LABELS } from '../types.js';
import type { AnalysisResult } from './types.js';

export type OutputFormat = 'json' | 'jsonl' | 'csv';

export type FileResult =
  | ({ file: string } & Omit<AnalysisResult, 'timings'> & { timings?: AnalysisResult['timings'] })
  | { file: string; error: string; code?: string };

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/** Results rounded for output: pixels to 0.01, probabilities to 1e-4. */
export function toOutput(file: string, r: AnalysisResult, timings: boolean): FileResult {
  return {
    file,
    width: r.width,
    height: r.height,
    faces: r.faces.map((f) => ({
      box: { x: round(f.box.x), y: round(f.box.y), width: round(f.box.width), height: round(f.box.height) },
      score: round(f.score, 4),
      landmarks: f.landmarks.map(([x, y]) => [round(x), round(y)] as [number, number]),
      expression: {
        label: f.expression.label,
        probabilities: Object.fromEntries(
          EXPRESSION_LABELS.map((l) => [l, round(f.expression.probabilities[l], 4)]),
        ) as typeof f.expression.probabilities,
      },
    })),
    ...(timings
      ? {
          timings: Object.fromEntries(
            Object.entries(r.timings).map(([k, v]) => [k, round(v)]),
          ) as unknown as AnalysisResult['timings'],
        }
      : {}),
  };
}

export const csvCell = (v: unknown): string => {
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const CSV_HEADER = [
  'file',
  'width',
  'height',
  'face',
  'x',
  'y',
  'box_width',
  'box_height',
  'score',
  'label',
  ...EXPRESSION_LABELS,
  'error',
];

export function csvRows(r: FileResult): string[] {
  if ('error' in r)
    return [
      [r.file, '', '', '', '', '', '', '', '', '', ...EXPRESSION_LABELS.map(() => ''), r.error].map(csvCell).join(','),
    ];
  if (r.faces.length === 0)
    return [
      [r.file, r.width, r.height, '', '', '', '', '', '', '', ...EXPRESSION_LABELS.map(() => ''), '']
        .map(csvCell)
        .join(','),
    ];
  return r.faces.map((f, i) =>
    [
      r.file,
      r.width,
      r.height,
      i,
      f.box.x,
      f.box.y,
      f.box.width,
      f.box.height,
      f.score,
      f.expression.label,
      ...EXPRESSION_LABELS.map((l) => f.expression.probabilities[l]),
      '',
    ]
      .map(csvCell)
      .join(','),
  );
}

/** Streams records in the chosen format: JSON arrays open on the first and close on end(). */
export class ResultWriter {
  private count = 0;
  constructor(
    private readonly format: OutputFormat,
    private readonly write: (s: string) => void,
  ) {
    if (format === 'csv') write(CSV_HEADER.join(',') + '\n');
    if (format === 'json') write('[');
  }
  add(r: FileResult): void {
    if (this.format === 'jsonl') this.write(JSON.stringify(r) + '\n');
    else if (this.format === 'csv') this.write(csvRows(r).join('\n') + '\n');
    else this.write((this.count ? ',\n' : '\n') + JSON.stringify(r));
    this.count++;
  }
  end(): void {
    if (this.format === 'json') this.write(this.count ? '\n]\n' : ']\n');
  }
}
