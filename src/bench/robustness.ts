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

import { summarize } from '../eval/metrics.js';
import { EXPRESSION_LABELS } from '../types.js';
import { CORRUPTION_FAMILIES, CORRUPTIONS, type Corruption, type CorruptionFamily } from './corruptions.js';

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

export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

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
