/** PNG charts of the robustness benchmark: accuracy per corruption over severities, and the grid of corrupted crops. */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { type FitTextOptions, fitText, font, GRID, INK, MUTED } from '../eval/charts.js';
import { CORRUPTIONS, type Corruption } from './corruptions.js';
import type { RobustnessResult } from './robustness.js';
import { pct, type RobustnessContext, signedPct } from './robustness-report.js';

// ---------------------------------------------------------------------------------------- charts
// Same look as src/eval/charts.ts (font stack, ink colours, grid); labels shrink down to 9 px and
// are never squeezed.

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const FIT: FitTextOptions = { minPx: 9, squeeze: false };

interface Series {
  label: string;
  color: string;
  /** Accuracy at severity 0 (clean) then at each severity. */
  values: number[];
  dash?: number[];
}

function drawPanel(
  ctx: SKRSContext2D,
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  series: Series[],
  xs: number[],
  yRange: [number, number],
  refs: { value: number; label: string; dash: number[]; side: 'left' | 'right' }[],
  legendRows: number,
): void {
  const padL = 52;
  const padR = 14;
  const padT = 34;
  const padB = 52 + legendRows * 19;
  const pw = w - padL - padR;
  const ph = h - padT - padB;
  const X = (s: number) => x0 + padL + (s / Math.max(...xs, 1)) * pw;
  const Y = (v: number) => y0 + padT + (1 - (v - yRange[0]) / (yRange[1] - yRange[0])) * ph;

  ctx.fillStyle = INK;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  fitText(ctx, title, x0 + padL, y0 + 22, pw, 16, 'bold', FIT);

  // grid + y ticks every 10%
  ctx.lineWidth = 1;
  ctx.font = font(11);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = Math.ceil(yRange[0] * 10) / 10; v <= yRange[1] + 1e-9; v += 0.1) {
    const y = Math.round(Y(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(x0 + padL, y);
    ctx.lineTo(x0 + padL + pw, y);
    ctx.stroke();
    ctx.fillStyle = MUTED;
    ctx.fillText(`${Math.round(v * 100)}%`, x0 + padL - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const s of xs) {
    const x = Math.round(X(s)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(x, y0 + padT);
    ctx.lineTo(x, y0 + padT + ph);
    ctx.stroke();
    ctx.fillStyle = MUTED;
    ctx.fillText(s === 0 ? 'clean' : String(s), x, y0 + padT + ph + 8);
  }
  ctx.fillStyle = INK;
  ctx.font = font(12);
  ctx.fillText('severity', x0 + padL + pw / 2, y0 + padT + ph + 24);

  // reference lines (clean accuracy, majority class)
  for (const ref of refs) {
    if (ref.value < yRange[0] || ref.value > yRange[1]) continue;
    ctx.setLineDash(ref.dash);
    ctx.strokeStyle = MUTED;
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    ctx.moveTo(x0 + padL, Y(ref.value));
    ctx.lineTo(x0 + padL + pw, Y(ref.value));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = MUTED;
    ctx.font = font(10);
    ctx.textAlign = ref.side;
    ctx.textBaseline = 'bottom';
    ctx.fillText(ref.label, ref.side === 'right' ? x0 + padL + pw - 3 : x0 + padL + 3, Y(ref.value) - 2);
  }

  // series
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2.2;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const px = X(xs[i]);
      const py = Y(v);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
    ctx.setLineDash([]);
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      ctx.beginPath();
      ctx.arc(X(xs[i]), Y(v), 3.2, 0, 2 * Math.PI);
      ctx.fill();
    });
  }
  ctx.strokeStyle = INK;
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 + padL + 0.5, y0 + padT + 0.5, pw, ph);

  // legend, two columns under the axis title
  ctx.font = font(12);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const colW = pw / 2;
  series.forEach((s, i) => {
    const lx = x0 + padL + (i % 2) * colW;
    const ly = y0 + padT + ph + 50 + Math.floor(i / 2) * 19;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2.2;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    ctx.moveTo(lx, ly);
    ctx.lineTo(lx + 20, ly);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = INK;
    fitText(ctx, s.label, lx + 26, ly, colW - 30, 12, '', FIT);
  });
}

/**
 * Accuracy vs severity: one panel per family (its corruptions as lines, clean at severity 0), and a
 * last panel with the family means; all panels share the y axis so they compare at a glance.
 */
export function robustnessChartPng(r: RobustnessResult, ctx: RobustnessContext): Buffer {
  const xs = [0, ...r.severities];
  const all = [r.clean.accuracy, r.majorityRate, ...r.cells.map((c) => c.accuracy)].filter(Number.isFinite);
  const lo = Math.max(0, Math.floor(Math.min(...all) * 10 - 1e-9) / 10);
  const hi = Math.min(1, Math.ceil(Math.max(...all) * 10 + 1e-9) / 10);
  const yRange: [number, number] = [lo, hi > lo ? hi : lo + 0.1];
  const panels = [
    ...r.families.map((f) => ({
      title: f.name,
      series: r.corruptions
        .filter((c) => c.family === f.name)
        .map((c, i) => ({
          label: c.name,
          color: PALETTE[i % PALETTE.length],
          values: [r.clean.accuracy, ...c.accuracyBySeverity],
        })),
    })),
    {
      title: 'family means',
      series: r.families.map((f, i) => ({
        label: f.name,
        color: PALETTE[i % PALETTE.length],
        values: [r.clean.accuracy, ...f.accuracyBySeverity],
      })),
    },
  ];
  const cols = 4;
  const rows = Math.ceil(panels.length / cols);
  const pw = 340;
  const maxLegend = Math.max(...panels.map((p) => Math.ceil(p.series.length / 2)));
  const ph = 300 + maxLegend * 19;
  const top = 78;
  const width = cols * pw + 20;
  const height = top + rows * ph + 16;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = INK;
  g.textAlign = 'center';
  g.textBaseline = 'alphabetic';
  fitText(
    g,
    `Accuracy under corruption: ${ctx.model} (TTA ${ctx.tta}) on ${ctx.data}`,
    width / 2,
    30,
    width - 40,
    20,
    'bold',
    FIT,
  );
  g.fillStyle = MUTED;
  fitText(
    g,
    `n = ${r.n}   clean accuracy ${pct(r.clean.accuracy)}% (dashed)   mean under corruption ${pct(r.overall.accuracy)}%   mean rCE ${signedPct(r.overall.rce)}   dotted: majority class ${pct(r.majorityRate)}%`,
    width / 2,
    56,
    width - 40,
    14,
    '',
    FIT,
  );
  const refs = [
    // labels where the curves are not: clean accuracy on the right (curves fall below it with the
    // severity), the majority-class rate on the left (every curve starts at clean accuracy)
    { value: r.clean.accuracy, label: 'clean', dash: [6, 4], side: 'right' as const },
    { value: r.majorityRate, label: 'majority class', dash: [2, 3], side: 'left' as const },
  ];
  panels.forEach((p, i) => {
    drawPanel(
      g,
      10 + (i % cols) * pw,
      top + Math.floor(i / cols) * ph,
      pw,
      ph,
      p.title,
      p.series,
      xs,
      yRange,
      refs,
      maxLegend,
    );
  });
  return canvas.toBuffer('image/png');
}

/** Draw a grey crop scaled by an integer factor with nearest-neighbour pixels. */
function drawCrop(g: SKRSContext2D, crop: Uint8Array, side: number, x: number, y: number, scale: number): void {
  const img = g.createImageData(side * scale, side * scale);
  const d = img.data;
  for (let yy = 0; yy < side * scale; yy++) {
    for (let xx = 0; xx < side * scale; xx++) {
      const v = crop[Math.floor(yy / scale) * side + Math.floor(xx / scale)];
      const o = 4 * (yy * side * scale + xx);
      d[o] = d[o + 1] = d[o + 2] = v;
      d[o + 3] = 255;
    }
  }
  g.putImageData(img, x, y);
}

/** One face under every corruption (rows) × severity (columns, clean first), for checking by eye. */
export async function corruptionGridPng(
  crop: Uint8Array,
  options: {
    corruptions?: readonly Corruption[];
    severities?: readonly number[];
    seed?: number;
    title?: string;
    scale?: number;
  } = {},
): Promise<Buffer> {
  const corruptions = options.corruptions ?? CORRUPTIONS;
  const severities = options.severities ?? [1, 2, 3, 4, 5];
  const side = Math.round(Math.sqrt(crop.length));
  const scale = options.scale ?? 2;
  const cell = side * scale;
  const gap = 8;
  const labelW = 190;
  const top = 70;
  const rowH = cell + 22;
  const cols = 1 + severities.length;
  const width = labelW + cols * (cell + gap) + 12;
  const height = top + corruptions.length * rowH + 10;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = INK;
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
  fitText(g, options.title ?? 'One face under every corruption', 12, 26, width - 24, 18, 'bold', FIT);
  g.font = font(13, 'bold');
  g.textAlign = 'center';
  for (const [i, t] of ['clean', ...severities.map((s) => `severity ${s}`)].entries()) {
    g.fillText(t, labelW + i * (cell + gap) + cell / 2, top - 10);
  }
  let lastFamily = '';
  for (const [r, c] of corruptions.entries()) {
    const y = top + r * rowH;
    if (c.family !== lastFamily && r > 0) {
      g.strokeStyle = GRID;
      g.beginPath();
      g.moveTo(10, y - 6.5);
      g.lineTo(width - 10, y - 6.5);
      g.stroke();
    }
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    g.fillStyle = INK;
    fitText(g, c.name, 12, y + cell / 2 - 9, labelW - 20, 15, 'bold', FIT);
    g.fillStyle = MUTED;
    fitText(
      g,
      c.family !== lastFamily ? `${c.family} · ${c.parameter}` : c.parameter,
      12,
      y + cell / 2 + 10,
      labelW - 20,
      12,
      '',
      FIT,
    );
    lastFamily = c.family;
    const views = [crop.slice(), ...(await Promise.all(severities.map((s) => c.apply(crop, s, options.seed ?? 0))))];
    views.forEach((v, i) => {
      const x = labelW + i * (cell + gap);
      drawCrop(g, v, side, x, y, scale);
      g.fillStyle = MUTED;
      g.font = font(11);
      g.textAlign = 'center';
      g.textBaseline = 'top';
      if (i > 0) g.fillText(String(c.levels[severities[i - 1] - 1]), x + cell / 2, y + cell + 3);
    });
  }
  return canvas.toBuffer('image/png');
}
