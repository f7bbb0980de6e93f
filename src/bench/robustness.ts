/**
 * `ferkit bench robustness`: accuracy and macro-F1 of an expression model under the controlled
 * corruptions of ./corruptions.ts, 5 severities each, on FER2013-style 48×48 crops.
 *
 * Relative corruption error (rCE), per corruption c and severity s:
 *
 *     rCE(c, s) = (E(c, s) − E_clean) / E_clean,   E = 1 − accuracy (top-1 error)
 *
 * i.e. how much the error grows, as a fraction of the model's own clean error (0 = unaffected,
 * 0.5 = 50% more mistakes than on clean crops; negative when a corruption happens to help).
 * Per corruption it is averaged over the severities run, per family over that family's corruptions
 * (each corruption weighted equally), and "all" averages all corruptions. This is ImageNet-C's
 * relative CE with the model's own clean error as the normaliser instead of AlexNet's, since FER
 * has no agreed baseline model; the mean corruption accuracy (mCA) is reported beside it.
 *
 * Also here: the result as a Markdown report and long-form CSV, an accuracy-vs-severity chart
 * (one panel per family) and a grid picture of one face under every corruption × severity.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { type FitTextOptions, fitText, font, GRID, INK, MUTED } from '../eval/charts.js';
import { summarize } from '../eval/metrics.js';
import { EXPRESSION_LABELS } from '../types.js';
import { CORRUPTION_FAMILIES, CORRUPTIONS, type Corruption, type CorruptionFamily } from './corruptions.js';
import { markdownTable } from './report.js';

export interface ProbabilityModel {
  /** Probabilities per crop in EXPRESSION_LABELS order. */
  probabilities(crops: readonly Uint8Array[]): Promise<Float32Array[]>;
}

export interface RobustnessOptions {
  images: readonly Uint8Array[];
  labels: ArrayLike<number>;
  model: ProbabilityModel;
  corruptions?: readonly Corruption[];
  /** Severities to run, each 1..5 (default 1..5); clean is always run. */
  severities?: readonly number[];
  /** Base seed; image i uses seed·2654435761 + i (default 0). */
  seed?: number;
  /** Crops per model call (default 64). */
  batch?: number;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface RobustnessCell {
  corruption: string;
  family: CorruptionFamily | 'clean';
  severity: number;
  /** The corruption's parameter at this severity (null for clean). */
  parameter: number | null;
  accuracy: number;
  macroF1: number;
  ece: number;
  /** 1 − accuracy. */
  error: number;
  /** (error − clean error) / clean error; 0 for clean. */
  rce: number;
}

export interface RobustnessAggregate {
  name: string;
  family?: CorruptionFamily;
  /** Mean over the severities run (corruption) or over the family's corruptions (family). */
  accuracy: number;
  macroF1: number;
  rce: number;
  /** Mean accuracy per severity, in `severities` order. */
  accuracyBySeverity: number[];
}

export interface RobustnessResult {
  n: number;
  seed: number;
  severities: number[];
  clean: RobustnessCell;
  cells: RobustnessCell[];
  corruptions: RobustnessAggregate[];
  families: RobustnessAggregate[];
  /** Mean over all corruptions: mean corruption accuracy, macro-F1 and rCE. */
  overall: { accuracy: number; macroF1: number; rce: number };
  /** Share of the most frequent class: the accuracy of always guessing it. */
  majorityRate: number;
  definitions: { rce: string; aggregation: string };
  corruptionInfo: {
    name: string;
    family: CorruptionFamily;
    description: string;
    parameter: string;
    levels: number[];
  }[];
  seconds: number;
}

export const RCE_DEFINITION =
  'rCE = (E_c,s − E_clean) / E_clean with E = 1 − accuracy: the growth of the top-1 error relative to the model’s own clean error';
export const AGGREGATION =
  'per corruption: mean over severities; per family: mean of its corruptions; all: mean over all corruptions (each corruption weighted equally)';

export function imageSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 2654435761) + index) >>> 0;
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function predictAll(
  model: ProbabilityModel,
  crops: readonly Uint8Array[],
  batch: number,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < crops.length; i += batch) out.push(...(await model.probabilities(crops.slice(i, i + batch))));
  return out;
}

/** Run the model on clean crops and under every corruption × severity. */
export async function runRobustness(options: RobustnessOptions): Promise<RobustnessResult> {
  const t0 = performance.now();
  const { images, labels, model } = options;
  const corruptions = options.corruptions ?? CORRUPTIONS;
  const severities = [...(options.severities ?? [1, 2, 3, 4, 5])];
  const seed = options.seed ?? 0;
  const batch = options.batch ?? 64;
  const n = images.length;
  if (n === 0) throw new RangeError('runRobustness: no images');
  const total = n * (1 + corruptions.length * severities.length);
  let done = 0;
  const progress = (what: string) => options.onProgress?.(done, total, what);

  const cell = (
    corruption: string,
    family: RobustnessCell['family'],
    severity: number,
    parameter: number | null,
    probs: Float32Array[],
  ) => {
    const s = summarize(probs, labels);
    return {
      corruption,
      family,
      severity,
      parameter,
      accuracy: s.accuracy,
      macroF1: s.macroF1,
      ece: s.ece,
      error: 1 - s.accuracy,
      rce: 0,
    };
  };

  progress('clean');
  const clean = cell('clean', 'clean', 0, null, await predictAll(model, images, batch));
  done += n;
  const cleanError = clean.error;
  const rceOf = (error: number) => (cleanError > 0 ? (error - cleanError) / cleanError : error > 0 ? Infinity : 0);

  const cells: RobustnessCell[] = [];
  for (const c of corruptions) {
    for (const severity of severities) {
      progress(`${c.name} ${severity}`);
      const corrupted: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) corrupted[i] = await c.apply(images[i], severity, imageSeed(seed, i));
      const r = cell(c.name, c.family, severity, c.levels[severity - 1], await predictAll(model, corrupted, batch));
      r.rce = rceOf(r.error);
      cells.push(r);
      done += n;
      progress(`${c.name} ${severity}`);
    }
  }

  const perCorruption: RobustnessAggregate[] = corruptions.map((c) => {
    const mine = cells.filter((x) => x.corruption === c.name);
    return {
      name: c.name,
      family: c.family,
      accuracy: mean(mine.map((x) => x.accuracy)),
      macroF1: mean(mine.map((x) => x.macroF1)),
      rce: mean(mine.map((x) => x.rce)),
      accuracyBySeverity: severities.map((s) => mine.find((x) => x.severity === s)?.accuracy ?? Number.NaN),
    };
  });
  const families: RobustnessAggregate[] = CORRUPTION_FAMILIES.filter((f) =>
    perCorruption.some((c) => c.family === f),
  ).map((f) => {
    const mine = perCorruption.filter((c) => c.family === f);
    return {
      name: f,
      accuracy: mean(mine.map((x) => x.accuracy)),
      macroF1: mean(mine.map((x) => x.macroF1)),
      rce: mean(mine.map((x) => x.rce)),
      accuracyBySeverity: severities.map((_, k) => mean(mine.map((c) => c.accuracyBySeverity[k]))),
    };
  });
  const counts = new Array<number>(EXPRESSION_LABELS.length).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return {
    n,
    seed,
    severities,
    clean,
    cells,
    corruptions: perCorruption,
    families,
    overall: {
      accuracy: mean(perCorruption.map((c) => c.accuracy)),
      macroF1: mean(perCorruption.map((c) => c.macroF1)),
      rce: mean(perCorruption.map((c) => c.rce)),
    },
    majorityRate: Math.max(...counts) / n,
    definitions: { rce: RCE_DEFINITION, aggregation: AGGREGATION },
    corruptionInfo: corruptions.map((c) => ({
      name: c.name,
      family: c.family,
      description: c.description,
      parameter: c.parameter,
      levels: [...c.levels],
    })),
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------ text output

const pct = (x: number, d = 1) => (Number.isFinite(x) ? (100 * x).toFixed(d) : '–');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const signedPct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)}%` : '–');

export interface RobustnessContext {
  model: string;
  tta: string;
  data: string;
}

/** The report as Markdown: headline, per-family summary, then accuracy / macro-F1 / rCE per corruption × severity. */
export function robustnessMarkdown(r: RobustnessResult, ctx: RobustnessContext): string {
  const sev = r.severities;
  const byKey = new Map(r.cells.map((c) => [`${c.corruption}:${c.severity}`, c]));
  const perSeverity = (pick: (c: RobustnessCell) => string) =>
    r.corruptions.map((c) => [
      c.name,
      c.family ?? '',
      ...sev.map((s) => {
        const x = byKey.get(`${c.name}:${s}`);
        return x ? pick(x) : '–';
      }),
    ]);
  const lines: string[] = [];
  lines.push(
    `Model **${ctx.model}** (TTA ${ctx.tta}) on ${ctx.data}, n = ${r.n}, seed ${r.seed}. ` +
      `Clean: accuracy **${pct(r.clean.accuracy)}%**, macro-F1 **${f3(r.clean.macroF1)}**. ` +
      `Mean over all ${r.corruptions.length} corruptions × severities ${sev.join(',')}: accuracy **${pct(r.overall.accuracy)}%**, ` +
      `macro-F1 **${f3(r.overall.macroF1)}**, rCE **${signedPct(r.overall.rce)}**. Always guessing the majority class scores ${pct(r.majorityRate)}%.`,
  );
  lines.push('');
  lines.push(`${r.definitions.rce}; ${r.definitions.aggregation}.`);
  lines.push('');
  lines.push('**Per family** (means over the family’s corruptions and severities)');
  lines.push('');
  lines.push(
    markdownTable(
      ['family', 'corruptions', 'accuracy %', 'macro-F1', 'rCE', ...sev.map((s) => `acc % s${s}`)],
      r.families.map((f) => [
        f.name,
        r.corruptions
          .filter((c) => c.family === f.name)
          .map((c) => c.name)
          .join(', '),
        pct(f.accuracy),
        f3(f.macroF1),
        signedPct(f.rce),
        ...f.accuracyBySeverity.map((a) => pct(a)),
      ]),
      2,
    ),
  );
  lines.push('');
  lines.push(`**Accuracy %** per corruption and severity (clean ${pct(r.clean.accuracy)}%)`);
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', ...sev.map((s) => `s${s}`), 'mean', 'mean rCE'],
      perSeverity((x) => pct(x.accuracy)).map((row, i) => [
        ...row,
        pct(r.corruptions[i].accuracy),
        signedPct(r.corruptions[i].rce),
      ]),
      2,
    ),
  );
  lines.push('');
  lines.push(`**Macro-F1** per corruption and severity (clean ${f3(r.clean.macroF1)})`);
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', ...sev.map((s) => `s${s}`), 'mean'],
      perSeverity((x) => f3(x.macroF1)).map((row, i) => [...row, f3(r.corruptions[i].macroF1)]),
      2,
    ),
  );
  lines.push('');
  lines.push('**rCE** per corruption and severity');
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', ...sev.map((s) => `s${s}`), 'mean'],
      perSeverity((x) => signedPct(x.rce)).map((row, i) => [...row, signedPct(r.corruptions[i].rce)]),
      2,
    ),
  );
  lines.push('');
  lines.push('**Corruptions** (parameter at severities 1–5)');
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', 'what', 'parameter', 'levels'],
      r.corruptionInfo.map((c) => [c.name, c.family, c.description, c.parameter, c.levels.join(', ')]),
      99,
    ),
  );
  return lines.join('\n');
}

/** Long-form CSV: one row per (corruption, severity), clean first. */
export function robustnessCsv(r: RobustnessResult): string {
  const head = 'corruption,family,severity,parameter,accuracy,macro_f1,ece,error,rce';
  const row = (c: RobustnessCell) =>
    [
      c.corruption,
      c.family,
      c.severity,
      c.parameter === null ? '' : String(c.parameter),
      c.accuracy,
      c.macroF1,
      c.ece,
      c.error,
      c.rce,
    ]
      .map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(6)) : v))
      .join(',');
  return [head, row(r.clean), ...r.cells.map(row)].join('\n') + '\n';
}

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
