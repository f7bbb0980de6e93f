/**
 * A timeline chart (PNG, @napi-rs/canvas): one panel per face track, the 7 expression
 * probabilities stacked over time (shared time axis), gaps where the face was not seen.
 */
import { writeFile } from 'node:fs/promises';
import { createCanvas } from '@napi-rs/canvas';
import { EXPRESSION_COLORS } from '../render/overlay.js';
import { EXPRESSION_LABELS } from '../types.js';
import type { TimelineRow, VideoSummary } from './timeline.js';

/** The overlay's bar colours, so the chart and the annotated video agree. */
export { EXPRESSION_COLORS };

interface Series {
  frames: number[];
  times: number[];
  probs: number[][]; // per sample, 7 values
}

/** Collects what the chart needs (times and smoothed probabilities per face). */
export class ChartData {
  readonly series = new Map<number, Series>();
  add(rows: readonly TimelineRow[]): void {
    for (const r of rows) {
      let s = this.series.get(r.faceId);
      if (!s) this.series.set(r.faceId, (s = { frames: [], times: [], probs: [] }));
      s.frames.push(r.frame);
      s.times.push(r.time);
      s.probs.push(EXPRESSION_LABELS.map((l) => r[l]));
    }
  }
}

export interface ChartOptions {
  /** Frames between analysed frames (gaps longer than ~2 steps break the curve). */
  every?: number;
  fps: number;
  duration: number;
  width?: number;
  /** At most this many panels (the longest tracks); default 12. */
  maxPanels?: number;
  title?: string;
}

export function renderTimelineChart(data: ChartData, summary: VideoSummary, o: ChartOptions): Buffer {
  const W = o.width ?? 1400;
  const maxPanels = o.maxPanels ?? 12;
  const every = o.every ?? 1;
  const tracks = [...summary.faces].sort((a, b) => b.frames - a.frames).slice(0, maxPanels);
  tracks.sort((a, b) => a.faceId - b.faceId);
  const omitted = summary.faces.length - tracks.length;
  const panelH = 130;
  const gap = 18;
  const top = 86;
  const left = 170;
  const right = 24;
  const axisH = 44;
  const H = top + Math.max(1, tracks.length) * (panelH + gap) + axisH + (omitted ? 22 : 0);
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 22px sans-serif';
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillText(o.title ?? 'Expressions over time', 20, 14);
  // legend
  ctx.font = '16px sans-serif';
  let lx = 20;
  for (const l of EXPRESSION_LABELS) {
    ctx.fillStyle = EXPRESSION_COLORS[l];
    ctx.fillRect(lx, 50, 18, 18);
    ctx.strokeStyle = '#555';
    ctx.lineWidth = 1;
    ctx.strokeRect(lx + 0.5, 50.5, 17, 17);
    ctx.fillStyle = '#222';
    ctx.fillText(l, lx + 24, 51);
    lx += 24 + ctx.measureText(l).width + 22;
  }
  ctx.fillStyle = '#666';
  ctx.textAlign = 'right';
  ctx.fillText(
    `${summary.processedFrames} of ${summary.frames} frames analysed · smoothed probabilities, stacked`,
    W - right,
    51,
  );

  const plotW = W - left - right;
  const T = Math.max(o.duration, 1 / o.fps);
  const xOf = (t: number) => left + (t / T) * plotW;
  const step = niceStep(T, plotW / 90);
  const maxGap = (2.5 * every) / o.fps;
  const halfStep = every / o.fps / 2;

  if (!tracks.length) {
    ctx.textAlign = 'left';
    ctx.fillStyle = '#444';
    ctx.font = '18px sans-serif';
    ctx.fillText('No faces found.', left, top + 50);
  }
  tracks.forEach((f, pi) => {
    const y0 = top + pi * (panelH + gap);
    const s = data.series.get(f.faceId);
    // frame + grid
    ctx.fillStyle = '#f4f4f6';
    ctx.fillRect(left, y0, plotW, panelH);
    ctx.strokeStyle = '#dddde3';
    ctx.lineWidth = 1;
    for (let t = 0; t <= T + 1e-9; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, y0);
      ctx.lineTo(x, y0 + panelH);
      ctx.stroke();
    }
    for (const q of [0.25, 0.5, 0.75]) {
      const y = Math.round(y0 + panelH * (1 - q)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotW, y);
      ctx.stroke();
    }
    // stacked areas, one polygon per label per continuous run
    if (s) {
      const runs: [number, number][] = [];
      let start = 0;
      for (let i = 1; i <= s.times.length; i++) {
        if (i === s.times.length || s.times[i] - s.times[i - 1] > maxGap) {
          runs.push([start, i - 1]);
          start = i;
        }
      }
      for (const [a, b] of runs) {
        const xs: number[] = [];
        const cum: number[][] = [];
        for (let i = a; i <= b; i++) {
          let c = 0;
          cum.push([0, ...s.probs[i].map((p) => (c += p))]);
          xs.push(s.times[i]);
        }
        // a run of one sample still gets a visible width
        const tx = xs.length === 1 ? [xs[0] - halfStep, xs[0] + halfStep] : xs;
        const cx = xs.length === 1 ? [cum[0], cum[0]] : cum;
        EXPRESSION_LABELS.forEach((l, k) => {
          ctx.fillStyle = EXPRESSION_COLORS[l];
          ctx.beginPath();
          tx.forEach((t, i) => {
            const y = y0 + panelH * (1 - Math.min(1, cx[i][k + 1]));
            if (i === 0) ctx.moveTo(xOf(t), y);
            else ctx.lineTo(xOf(t), y);
          });
          for (let i = tx.length - 1; i >= 0; i--) ctx.lineTo(xOf(tx[i]), y0 + panelH * (1 - Math.min(1, cx[i][k])));
          ctx.closePath();
          ctx.fill();
        });
      }
    }
    ctx.strokeStyle = '#888';
    ctx.lineWidth = 1;
    ctx.strokeRect(left + 0.5, y0 + 0.5, plotW - 1, panelH - 1);
    // labels
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#111';
    ctx.font = 'bold 20px sans-serif';
    ctx.fillText(`Face #${f.faceId}`, 16, y0 + 6);
    ctx.font = '15px sans-serif';
    ctx.fillStyle = '#333';
    ctx.fillText(`${f.frames} frames`, 16, y0 + 34);
    ctx.fillText(`${f.firstTime.toFixed(1)}–${f.lastTime.toFixed(1)} s`, 16, y0 + 54);
    ctx.fillStyle = EXPRESSION_COLORS[f.dominant];
    ctx.fillRect(16, y0 + 80, 14, 14);
    ctx.fillStyle = '#111';
    ctx.fillText(`${f.dominant} ${Math.round(f.share[f.dominant] * 100)}%`, 36, y0 + 78);
    ctx.textAlign = 'right';
    ctx.font = '12px sans-serif';
    ctx.fillStyle = '#666';
    ctx.textBaseline = 'middle';
    for (const q of [0, 0.5, 1]) ctx.fillText(`${q * 100}%`, left - 6, y0 + panelH * (1 - q));
  });
  // time axis
  const ya = top + Math.max(1, tracks.length) * (panelH + gap) - gap + 8;
  ctx.fillStyle = '#333';
  ctx.font = '14px sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let t = 0; t <= T + 1e-9; t += step) ctx.fillText(formatTime(t, step), xOf(t), ya);
  ctx.fillText('time (s)', left + plotW / 2, ya + 20);
  if (omitted) {
    ctx.textAlign = 'left';
    ctx.fillStyle = '#666';
    ctx.fillText(`${omitted} shorter face track${omitted === 1 ? '' : 's'} not shown (see the summary)`, 20, ya + 40);
  }
  return canvas.toBuffer('image/png');
}

/** A 1/2/5×10^k step giving at most `maxTicks` ticks over `range`. */
export function niceStep(range: number, maxTicks: number): number {
  const raw = range / Math.max(1, maxTicks);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function formatTime(t: number, step: number): string {
  if (t >= 60 && step >= 1) return `${Math.floor(t / 60)}:${String(Math.round(t % 60)).padStart(2, '0')}`;
  return step < 1 ? t.toFixed(1) : String(Math.round(t));
}

export async function writeTimelineChart(
  path: string,
  data: ChartData,
  summary: VideoSummary,
  o: ChartOptions,
): Promise<void> {
  await writeFile(path, renderTimelineChart(data, summary, o));
}
