/** Evaluation charts as PNG bytes (Node, @napi-rs/canvas): a confusion-matrix heat map and a reliability diagram. */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { EXPRESSION_LABELS } from '../types.js';
import type { ReliabilityBin } from './metrics.js';

// The look shared with the robustness charts (src/bench/robustness.ts): font stack, ink colours, grid.
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
export const INK = '#1f2328';
export const MUTED = '#57606a';
export const GRID = '#d0d7de';

export interface ConfusionChartOptions {
  /** Class names in row/column order (EXPRESSION_LABELS by default). */
  labels?: readonly string[];
  /** Title line; a subtitle with n and accuracy is added below it. */
  title?: string;
}

export interface ReliabilityChartOptions {
  /** The ECE to print in the title (computed from the bins when left out). */
  ece?: number;
  title?: string;
}

/** Canvas font string in the charts' font stack. */
export function font(px: number, weight = ''): string {
  return `${weight ? `${weight} ` : ''}${px}px ${FONT}`;
}

export interface FitTextOptions {
  /** Smallest font size tried (default 10). */
  minPx?: number;
  /** Let the canvas squeeze text that still does not fit at minPx into maxWidth (default true). */
  squeeze?: boolean;
}

/** Text at the current alignment, in the largest size from px down to minPx at which it fits maxWidth. */
export function fitText(
  ctx: SKRSContext2D,
  text: string,
  x: number,
  y: number,
  maxWidth: number,
  px: number,
  weight = '',
  { minPx = 10, squeeze = true }: FitTextOptions = {},
): void {
  let size = px;
  ctx.font = font(size, weight);
  while (size > minPx && ctx.measureText(text).width > maxWidth) ctx.font = font(--size, weight);
  if (squeeze) ctx.fillText(text, x, y, maxWidth);
  else ctx.fillText(text, x, y);
}

/** White → deep blue for a fraction 0..1 (a perceptually even-ish ramp). */
function blues(t: number): string {
  const stops: [number, number, number][] = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * Confusion-matrix heat map: rows = true class, columns = predicted class; each cell coloured by its
 * share of the row (recall on the diagonal) and labelled with the count and that percentage.
 */
export function confusionMatrixPng(
  confusion: readonly (readonly number[])[],
  options: ConfusionChartOptions = {},
): Buffer {
  const labels = options.labels ?? EXPRESSION_LABELS;
  const k = confusion.length;
  const cell = 84;
  const left = 130;
  const top = 96;
  const right = 100; // room for the colour bar
  const bottom = 100;
  const width = left + k * cell + right;
  const height = top + k * cell + bottom;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);

  const rowSums = confusion.map((r) => r.reduce((s, v) => s + v, 0));
  const n = rowSums.reduce((s, v) => s + v, 0);
  const trace = confusion.reduce((s, r, i) => s + r[i], 0);

  ctx.fillStyle = INK;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  fitText(ctx, options.title ?? 'Confusion matrix', width / 2, 32, width - 24, 20, 'bold');
  ctx.fillStyle = MUTED;
  fitText(
    ctx,
    `n = ${n}   accuracy = ${n ? ((100 * trace) / n).toFixed(1) : '0.0'}%   colour = share of the true class (row)`,
    width / 2,
    56,
    width - 24,
    14,
  );

  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const count = confusion[r][c];
      const frac = rowSums[r] ? count / rowSums[r] : 0;
      const x = left + c * cell;
      const y = top + r * cell;
      ctx.fillStyle = blues(frac);
      ctx.fillRect(x, y, cell, cell);
      ctx.fillStyle = frac > 0.45 ? '#ffffff' : INK;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = font(18, r === c ? 'bold' : '');
      ctx.fillText(String(count), x + cell / 2, y + cell / 2 - 10);
      ctx.font = font(13);
      ctx.fillText(`${(100 * frac).toFixed(1)}%`, x + cell / 2, y + cell / 2 + 13);
    }
  }
  // Cell grid and a frame around the diagonal.
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1;
  for (let i = 0; i <= k; i++) {
    ctx.beginPath();
    ctx.moveTo(left + i * cell, top);
    ctx.lineTo(left + i * cell, top + k * cell);
    ctx.moveTo(left, top + i * cell);
    ctx.lineTo(left + k * cell, top + i * cell);
    ctx.stroke();
  }
  ctx.strokeStyle = MUTED;
  ctx.strokeRect(left + 0.5, top + 0.5, k * cell - 1, k * cell - 1);

  // Axis tick labels: true classes on the left (with their support), predicted classes below.
  ctx.fillStyle = INK;
  ctx.font = font(14);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let r = 0; r < k; r++) {
    ctx.fillText(labels[r] ?? String(r), left - 10, top + r * cell + cell / 2 - 8);
    ctx.fillStyle = MUTED;
    ctx.font = font(12);
    ctx.fillText(`n=${rowSums[r]}`, left - 10, top + r * cell + cell / 2 + 10);
    ctx.fillStyle = INK;
    ctx.font = font(14);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let c = 0; c < k; c++) ctx.fillText(labels[c] ?? String(c), left + c * cell + cell / 2, top + k * cell + 10);

  // Axis titles.
  ctx.font = font(16, 'bold');
  ctx.fillText('Predicted', left + (k * cell) / 2, top + k * cell + 40);
  verticalTitle(ctx, 'True', 24, top + (k * cell) / 2, 16);

  // Colour bar.
  const bx = left + k * cell + 30;
  const bh = k * cell;
  for (let i = 0; i < bh; i++) {
    ctx.fillStyle = blues(1 - i / (bh - 1));
    ctx.fillRect(bx, top + i, 18, 1);
  }
  ctx.strokeStyle = MUTED;
  ctx.strokeRect(bx + 0.5, top + 0.5, 17, bh - 1);
  ctx.fillStyle = INK;
  ctx.font = font(12);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const t of [0, 0.25, 0.5, 0.75, 1]) ctx.fillText(`${Math.round(t * 100)}%`, bx + 24, top + (1 - t) * (bh - 1));

  return canvas.toBuffer('image/png');
}

/**
 * Reliability diagram: per confidence bin, the accuracy (bars), the gap to the bin's mean confidence
 * (red), the diagonal of perfect calibration, and below it how many samples fall in each bin.
 */
export function reliabilityDiagramPng(bins: readonly ReliabilityBin[], options: ReliabilityChartOptions = {}): Buffer {
  const total = bins.reduce((s, b) => s + b.count, 0);
  const ece =
    options.ece ?? (total ? bins.reduce((s, b) => s + (b.count / total) * Math.abs(b.accuracy - b.confidence), 0) : 0);
  const width = 720;
  const left = 80;
  const right = 40;
  const top = 84;
  const plotH = 440;
  const gapH = 40;
  const histH = 110;
  const bottom = 70;
  const height = top + plotH + gapH + histH + bottom;
  const plotW = width - left - right;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);

  const X = (v: number) => left + v * plotW;
  const Y = (v: number) => top + (1 - v) * plotH;

  ctx.fillStyle = INK;
  ctx.textAlign = 'center';
  fitText(ctx, options.title ?? 'Reliability diagram', width / 2, 32, width - 24, 20, 'bold');
  ctx.fillStyle = MUTED;
  fitText(ctx, `ECE = ${(100 * ece).toFixed(2)}%  (${bins.length} bins, n = ${total})`, width / 2, 58, width - 24, 15);

  drawGrid(ctx, left, top, plotW, plotH);

  // Bars: accuracy in blue, the gap to mean confidence in translucent red.
  for (const b of bins) {
    if (!b.count) continue;
    const x0 = X(b.lo) + 1;
    const w = X(b.hi) - X(b.lo) - 2;
    ctx.fillStyle = 'rgba(33,113,181,0.85)';
    ctx.fillRect(x0, Y(b.accuracy), w, Y(0) - Y(b.accuracy));
    ctx.strokeStyle = 'rgba(8,48,107,0.9)';
    ctx.lineWidth = 1;
    ctx.strokeRect(x0 + 0.5, Y(b.accuracy) + 0.5, w - 1, Math.max(0, Y(0) - Y(b.accuracy) - 1));
    const yTop = Y(Math.max(b.accuracy, b.confidence));
    const yBot = Y(Math.min(b.accuracy, b.confidence));
    // Over the blue bar (accuracy above confidence) only the hatching, so the bar keeps its colour.
    drawGap(ctx, x0, yTop, w, yBot - yTop, b.accuracy < b.confidence);
    // Mean confidence marker.
    ctx.strokeStyle = GAP_LINE;
    ctx.beginPath();
    ctx.moveTo(x0, Y(b.confidence));
    ctx.lineTo(x0 + w, Y(b.confidence));
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  // Perfect calibration.
  ctx.setLineDash([6, 5]);
  ctx.strokeStyle = MUTED;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(X(0), Y(0));
  ctx.lineTo(X(1), Y(1));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.lineWidth = 1;

  ctx.strokeStyle = INK;
  ctx.strokeRect(left + 0.5, top + 0.5, plotW, plotH);

  // Axis ticks and titles.
  ctx.fillStyle = INK;
  ctx.font = font(13);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 5; i++) ctx.fillText((i / 5).toFixed(1), left - 8, Y(i / 5));
  verticalTitle(ctx, 'Accuracy', 24, top + plotH / 2, 15);

  // Legend (top left, inside the plot, where bars are usually short).
  const lx = left + 14;
  let ly = top + 14;
  ctx.font = font(13);
  ctx.textAlign = 'left';
  const legend: [string, (x: number, y: number) => void][] = [
    [
      'accuracy in bin',
      (x, y) => {
        ctx.fillStyle = 'rgba(33,113,181,0.85)';
        ctx.fillRect(x, y - 6, 22, 12);
      },
    ],
    ['gap to mean confidence', (x, y) => drawGap(ctx, x, y - 6, 22, 12)],
    [
      'perfect calibration',
      (x, y) => {
        ctx.setLineDash([6, 5]);
        ctx.strokeStyle = MUTED;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(x + 22, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.lineWidth = 1;
      },
    ],
  ];
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.fillRect(lx - 6, ly - 10, 200, legend.length * 20 + 4);
  for (const [text, swatch] of legend) {
    swatch(lx, ly);
    ctx.fillStyle = INK;
    ctx.fillText(text, lx + 30, ly);
    ly += 20;
  }

  // Sample histogram per bin.
  const hTop = top + plotH + gapH;
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  ctx.strokeStyle = GRID;
  ctx.strokeRect(left + 0.5, hTop + 0.5, plotW, histH);
  for (const b of bins) {
    if (!b.count) continue;
    const h = (b.count / maxCount) * (histH - 18);
    const x0 = X(b.lo) + 1;
    const w = X(b.hi) - X(b.lo) - 2;
    ctx.fillStyle = 'rgba(87,96,106,0.55)';
    ctx.fillRect(x0, hTop + histH - h, w, h);
    ctx.fillStyle = INK;
    ctx.font = font(10);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(String(b.count), x0 + w / 2, hTop + histH - h - 2);
  }
  ctx.fillStyle = INK;
  verticalTitle(ctx, 'Samples', 24, hTop + histH / 2, 13);

  ctx.font = font(13);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let i = 0; i <= 5; i++) ctx.fillText((i / 5).toFixed(1), X(i / 5), hTop + histH + 8);
  ctx.font = font(15, 'bold');
  ctx.fillText('Confidence (top-1 probability)', left + plotW / 2, hTop + histH + 32);

  return canvas.toBuffer('image/png');
}

const GAP_LINE = 'rgb(200,30,30)';

/**
 * A y-axis title in the current fill colour: bold, turned a quarter anticlockwise, centred on (x, y).
 * Sets its own alignment and font inside save/restore, so it leaves the context as it found it.
 */
function verticalTitle(ctx: SKRSContext2D, text: string, x: number, y: number, px: number): void {
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = font(px, 'bold');
  ctx.fillText(text, 0, 0);
  ctx.restore();
}

/** The calibration gap: a light red fill with red diagonal hatching, readable on white and on the blue bars. */
function drawGap(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, fill = true): void {
  if (h <= 0) return;
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
  if (fill) {
    ctx.fillStyle = 'rgba(240,120,110,0.30)';
    ctx.fillRect(x, y, w, h);
  }
  ctx.strokeStyle = GAP_LINE;
  ctx.lineWidth = fill ? 1.2 : 1.6;
  ctx.beginPath();
  for (let d = -h; d < w + h; d += 6) {
    ctx.moveTo(x + d, y + h);
    ctx.lineTo(x + d + h, y);
  }
  ctx.stroke();
  ctx.restore();
  ctx.strokeStyle = GAP_LINE;
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, Math.max(0, h - 1));
}

function drawGrid(ctx: SKRSContext2D, left: number, top: number, w: number, h: number): void {
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  for (let i = 1; i < 5; i++) {
    const x = Math.round(left + (i / 5) * w) + 0.5;
    const y = Math.round(top + (i / 5) * h) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + h);
    ctx.moveTo(left, y);
    ctx.lineTo(left + w, y);
    ctx.stroke();
  }
}
