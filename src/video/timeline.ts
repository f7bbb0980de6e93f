/**
 * The per-face timeline of a video: one row per tracked face per processed frame, written as CSV
 * or JSON (by the file's extension), and a per-face summary (frames seen, first/last time,
 * dominant expression, share of time per expression).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { TrackedFace } from '../track/tracker.js';
import { EXPRESSION_LABELS, type ExpressionLabel, type ExpressionProbabilities } from '../types.js';

export interface TimelineRow {
  frame: number;
  /** Seconds since the first video frame. */
  time: number;
  faceId: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The smoothed (tracked) top expression. */
  label: ExpressionLabel;
  angry: number;
  disgust: number;
  fear: number;
  happy: number;
  sad: number;
  surprise: number;
  neutral: number;
}

export const TIMELINE_COLUMNS = [
  'frame',
  'time',
  'faceId',
  'x',
  'y',
  'width',
  'height',
  'label',
  ...EXPRESSION_LABELS,
] as const;

const r2 = (v: number) => Math.round(v * 100) / 100;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

export function timelineRows(frame: number, time: number, faces: readonly TrackedFace[]): TimelineRow[] {
  return faces.map((f) => ({
    frame,
    time: Math.round(time * 1000) / 1000,
    faceId: f.id,
    x: r2(f.box.x),
    y: r2(f.box.y),
    width: r2(f.box.width),
    height: r2(f.box.height),
    label: f.expression.label,
    ...(Object.fromEntries(
      EXPRESSION_LABELS.map((l) => [l, r4(f.expression.probabilities[l])]),
    ) as ExpressionProbabilities),
  }));
}

export type TimelineFormat = 'csv' | 'json';

export function timelineFormat(path: string): TimelineFormat {
  return /\.json$/i.test(path) ? 'json' : 'csv';
}

/** `faces.csv` → `faces.summary.json` (beside it). */
export function summaryPathFor(timelinePath: string): string {
  return timelinePath.replace(/(\.(csv|json|jsonl))?$/i, '.summary.json');
}

/** Streams rows to a file as they come (a long video never holds its timeline in memory twice). */
export class TimelineWriter {
  private readonly out: WriteStream;
  private readonly format: TimelineFormat;
  private count = 0;
  private failed: Error | undefined;

  constructor(readonly path: string) {
    this.format = timelineFormat(path);
    this.out = createWriteStream(path);
    this.out.on('error', (e) => {
      this.failed = e;
    });
    this.out.write(this.format === 'csv' ? TIMELINE_COLUMNS.join(',') + '\n' : '[');
  }

  add(rows: readonly TimelineRow[]): void {
    if (this.failed) throw this.failed;
    for (const r of rows) {
      if (this.format === 'csv') this.out.write(TIMELINE_COLUMNS.map((c) => r[c]).join(',') + '\n');
      else this.out.write((this.count ? ',\n' : '\n') + JSON.stringify(r));
      this.count++;
    }
  }

  get rows(): number {
    return this.count;
  }

  async close(): Promise<void> {
    if (this.format === 'json') this.out.write(this.count ? '\n]\n' : ']\n');
    await new Promise<void>((resolve, reject) => this.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.failed) throw this.failed;
  }
}

export interface FaceSummary {
  faceId: number;
  /** Processed frames in which the face was seen. */
  frames: number;
  firstTime: number;
  lastTime: number;
  firstFrame: number;
  lastFrame: number;
  /** The expression that was the (smoothed) top label in the most frames. */
  dominant: ExpressionLabel;
  /** Share of the face's frames with each top label, 0..1. */
  share: ExpressionProbabilities;
  /** Mean (smoothed) probabilities over the face's frames. */
  meanProbabilities: ExpressionProbabilities;
}

export interface VideoSummary {
  input?: string;
  frames: number;
  processedFrames: number;
  fps: number;
  duration: number;
  faces: FaceSummary[];
}

interface Acc {
  frames: number;
  firstTime: number;
  lastTime: number;
  firstFrame: number;
  lastFrame: number;
  labels: Record<string, number>;
  sums: number[];
}

/** Accumulates the per-face summary row by row (constant memory per face). */
export class SummaryBuilder {
  private readonly faces = new Map<number, Acc>();

  add(rows: readonly TimelineRow[]): void {
    for (const r of rows) {
      let a = this.faces.get(r.faceId);
      if (!a) {
        a = {
          frames: 0,
          firstTime: r.time,
          lastTime: r.time,
          firstFrame: r.frame,
          lastFrame: r.frame,
          labels: {},
          sums: EXPRESSION_LABELS.map(() => 0),
        };
        this.faces.set(r.faceId, a);
      }
      a.frames++;
      a.lastTime = r.time;
      a.lastFrame = r.frame;
      a.labels[r.label] = (a.labels[r.label] ?? 0) + 1;
      EXPRESSION_LABELS.forEach((l, i) => {
        a.sums[i] += r[l];
      });
    }
  }

  build(meta: Omit<VideoSummary, 'faces'>): VideoSummary {
    const faces = [...this.faces.entries()].map(([faceId, a]): FaceSummary => {
      const share = Object.fromEntries(
        EXPRESSION_LABELS.map((l) => [l, r4((a.labels[l] ?? 0) / a.frames)]),
      ) as ExpressionProbabilities;
      const dominant = EXPRESSION_LABELS.reduce(
        (best, l) => ((a.labels[l] ?? 0) > (a.labels[best] ?? 0) ? l : best),
        EXPRESSION_LABELS[0],
      );
      return {
        faceId,
        frames: a.frames,
        firstTime: a.firstTime,
        lastTime: a.lastTime,
        firstFrame: a.firstFrame,
        lastFrame: a.lastFrame,
        dominant,
        share,
        meanProbabilities: Object.fromEntries(
          EXPRESSION_LABELS.map((l, i) => [l, r4(a.sums[i] / a.frames)]),
        ) as ExpressionProbabilities,
      };
    });
    faces.sort((x, y) => x.faceId - y.faceId);
    return { ...meta, faces };
  }
}

/** A plain-text table of the summary (for the terminal). */
export function formatSummary(s: VideoSummary): string {
  const lines = [
    `${s.input ? `${s.input}: ` : ''}${s.frames} frames (${s.processedFrames} analysed) at ${s.fps.toFixed(2)} fps, ${s.duration.toFixed(2)} s, ${s.faces.length} face track${s.faces.length === 1 ? '' : 's'}`,
  ];
  if (s.faces.length) {
    lines.push(
      `  ${'face'.padEnd(5)} ${'frames'.padStart(6)} ${'first'.padStart(7)} ${'last'.padStart(7)}  ${'dominant'.padEnd(9)} share of time`,
    );
    for (const f of s.faces) {
      const shares = EXPRESSION_LABELS.filter((l) => f.share[l] > 0)
        .sort((a, b) => f.share[b] - f.share[a])
        .map((l) => `${l} ${Math.round(f.share[l] * 100)}%`)
        .join(', ');
      lines.push(
        `  #${String(f.faceId).padEnd(4)} ${String(f.frames).padStart(6)} ${f.firstTime.toFixed(2).padStart(6)}s ${f.lastTime.toFixed(2).padStart(6)}s  ${f.dominant.padEnd(9)} ${shares}`,
      );
    }
  }
  return lines.join('\n');
}

export async function writeSummary(path: string, s: VideoSummary): Promise<void> {
  await writeFile(path, JSON.stringify(s, null, 2) + '\n');
}
