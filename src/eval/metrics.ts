/**
 * Classification metrics for expression models: accuracy, macro-F1, per-class precision/recall/F1,
 * confusion matrix, expected calibration error, reliability bins and NLL.
 *
 * Pure functions over plain arrays (no host imports), so the browser can reuse them. Definitions
 * match training/ferkit_train/metrics.py exactly, so numbers printed by `ferkit eval` and written
 * into model cards by the Python exporter agree:
 * - prediction = argmax of the probabilities, first index on ties (numpy's argmax);
 * - confusion[true][predicted];
 * - precision = tp / max(predicted count, 1), recall = tp / max(support, 1),
 *   F1 = 2pr / max(p + r, 1e-12); macro-F1 = plain mean of the per-class F1 over all classes
 *   (a class with no support and no predictions contributes F1 = 0, as in Python);
 * - ECE: 15 equal-width bins over confidence (lo, hi] with edges i/15, weighted by the bin's share
 *   of samples: sum |accuracy(bin) - mean confidence(bin)| * count(bin) / n;
 * - NLL: mean of -log(max(p[label], 1e-12)).
 */
import { EXPRESSION_LABELS } from '../types.js';

export const DEFAULT_ECE_BINS = 15;

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of samples whose true label is this class. */
  support: number;
}

export interface ReliabilityBin {
  /** Bin bounds: the bin holds confidences c with lo < c <= hi. */
  lo: number;
  hi: number;
  count: number;
  /** Fraction of the bin's samples predicted correctly (0 when empty). */
  accuracy: number;
  /** Mean top-1 confidence of the bin's samples (0 when empty). */
  confidence: number;
}

export interface EvalSummary {
  n: number;
  accuracy: number;
  macroF1: number;
  ece: number;
  nll: number;
  perClass: Record<string, ClassMetrics>;
  /** confusion[true][predicted], counts. */
  confusion: number[][];
  reliability: ReliabilityBin[];
}

type Labels = ArrayLike<number>;
type Probs = readonly ArrayLike<number>[];

/** Index of the largest value; the first one on ties (as numpy.argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function predictions(probs: Probs): Uint8Array {
  const out = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) out[i] = argmax(probs[i]);
  return out;
}

function checkLengths(a: { length: number }, b: { length: number }, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} vs ${b.length} entries`);
}

/** Fraction of predictions equal to the labels (0 for no samples). */
export function accuracy(labels: Labels, predicted: Labels): number {
  checkLengths(labels, predicted, 'accuracy: labels and predictions differ in length');
  if (labels.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) hit++;
  return hit / labels.length;
}

/** k×k counts, rows = true class, columns = predicted class. */
export function confusionMatrix(labels: Labels, predicted: Labels, k: number = EXPRESSION_LABELS.length): number[][] {
  checkLengths(labels, predicted, 'confusionMatrix: labels and predictions differ in length');
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predicted[i];
    if (!(t >= 0 && t < k && p >= 0 && p < k && Number.isInteger(t) && Number.isInteger(p))) {
      throw new RangeError(
        `confusionMatrix: sample ${i} has label ${t} / prediction ${p}, expected integers 0..${k - 1}`,
      );
    }
    m[t][p]++;
  }
  return m;
}

/** Sum of the diagonal divided by the total (0 for an empty matrix). */
export function accuracyFromConfusion(confusion: readonly (readonly number[])[]): number {
  let trace = 0;
  let total = 0;
  confusion.forEach((row, i) => {
    trace += row[i];
    for (const v of row) total += v;
  });
  return total ? trace / total : 0;
}

/** Per-class precision, recall, F1 and support from a confusion matrix, in row order. */
export function perClassMetrics(confusion: readonly (readonly number[])[]): ClassMetrics[] {
  const k = confusion.length;
  return confusion.map((row, i) => {
    const tp = row[i];
    let predictedCount = 0;
    for (let r = 0; r < k; r++) predictedCount += confusion[r][i];
    let support = 0;
    for (const v of row) support += v;
    const precision = tp / Math.max(predictedCount, 1);
    const recall = tp / Math.max(support, 1);
    const f1 = (2 * precision * recall) / Math.max(precision + recall, 1e-12);
    return { precision, recall, f1, support };
  });
}

/** Mean of the per-class F1 over all k classes. */
export function macroF1(confusion: readonly (readonly number[])[]): number {
  const per = perClassMetrics(confusion);
  return per.length ? per.reduce((s, c) => s + c.f1, 0) / per.length : 0;
}

/** Per-class metrics keyed by class name (EXPRESSION_LABELS unless other names are given). */
export function perClassByName(
  confusion: readonly (readonly number[])[],
  names: readonly string[] = EXPRESSION_LABELS,
): Record<string, ClassMetrics> {
  const out: Record<string, ClassMetrics> = {};
  perClassMetrics(confusion).forEach((m, i) => {
    out[names[i] ?? String(i)] = m;
  });
  return out;
}

/** Equal-width confidence bins (lo, hi] with edges i/bins; a sample lands in exactly one bin when 0 < conf <= 1. */
export function reliabilityBins(probs: Probs, labels: Labels, bins: number = DEFAULT_ECE_BINS): ReliabilityBin[] {
  checkLengths(probs, labels, 'reliabilityBins: probabilities and labels differ in length');
  // i * (1 / bins), last edge exactly 1: the values numpy.linspace(0, 1, bins + 1) produces.
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : i * (1 / bins)));
  const count = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    const pred = argmax(p);
    const conf = p[pred];
    // The bin with edges[b] < conf <= edges[b+1]; compared against the same edges numpy uses.
    let b = Math.min(bins - 1, Math.max(0, Math.ceil(conf * bins) - 1));
    while (b > 0 && conf <= edges[b]) b--;
    while (b < bins - 1 && conf > edges[b + 1]) b++;
    if (!(conf > edges[b] && conf <= edges[b + 1])) continue; // conf <= 0, > 1 or NaN: in no bin (as numpy)
    count[b]++;
    confSum[b] += conf;
    if (pred === labels[i]) correct[b]++;
  }
  return count.map((c, b) => ({
    lo: edges[b],
    hi: edges[b + 1],
    count: c,
    accuracy: c ? correct[b] / c : 0,
    confidence: c ? confSum[b] / c : 0,
  }));
}

/** ECE from reliability bins: sum over bins of |accuracy - confidence| weighted by the bin's share of n. */
export function eceFromBins(bins: readonly ReliabilityBin[], n?: number): number {
  const total = n ?? bins.reduce((s, b) => s + b.count, 0);
  if (!total) return 0;
  let ece = 0;
  for (const b of bins) if (b.count) ece += (b.count / total) * Math.abs(b.accuracy - b.confidence);
  return ece;
}

/** Expected calibration error of top-1 confidence, 15 equal-width bins over (lo, hi]. */
export function expectedCalibrationError(probs: Probs, labels: Labels, bins: number = DEFAULT_ECE_BINS): number {
  return eceFromBins(reliabilityBins(probs, labels, bins), probs.length);
}

/** Mean negative log-likelihood of the true labels, probabilities clipped at 1e-12. */
export function negativeLogLikelihood(probs: Probs, labels: Labels): number {
  checkLengths(probs, labels, 'negativeLogLikelihood: probabilities and labels differ in length');
  if (probs.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < probs.length; i++) s -= Math.log(Math.max(probs[i][labels[i]], 1e-12));
  return s / probs.length;
}

/** Everything `ferkit eval` reports, from per-sample probabilities and true labels. */
export function summarize(
  probs: Probs,
  labels: Labels,
  options: { names?: readonly string[]; bins?: number } = {},
): EvalSummary {
  checkLengths(probs, labels, 'summarize: probabilities and labels differ in length');
  const names = options.names ?? EXPRESSION_LABELS;
  const confusion = confusionMatrix(labels, predictions(probs), names.length);
  const reliability = reliabilityBins(probs, labels, options.bins ?? DEFAULT_ECE_BINS);
  return {
    n: probs.length,
    accuracy: accuracyFromConfusion(confusion),
    macroF1: macroF1(confusion),
    ece: eceFromBins(reliability, probs.length),
    nll: negativeLogLikelihood(probs, labels),
    perClass: perClassByName(confusion, names),
    confusion,
    reliability,
  };
}
