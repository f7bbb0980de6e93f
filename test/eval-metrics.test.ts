import { describe, expect, it } from 'vitest';
import {
  accuracy,
  argmax,
  confusionMatrix,
  eceFromBins,
  expectedCalibrationError,
  macroF1,
  negativeLogLikelihood,
  perClassMetrics,
  reliabilityBins,
  summarize,
} from '../src/eval/metrics.js';
import { EXPRESSION_LABELS } from '../src/types.js';

/** A 7-class probability row with `conf` on class `top` and the rest spread evenly. */
function row(top: number, conf: number): number[] {
  const r = new Array(7).fill((1 - conf) / 6);
  r[top] = conf;
  return r;
}

describe('argmax', () => {
  it('takes the first index on ties, like numpy', () => {
    expect(argmax([0.1, 0.4, 0.4, 0.1])).toBe(1);
    expect(argmax([3])).toBe(0);
  });
});

describe('perfect and all-wrong predictions', () => {
  const labels = [0, 1, 2, 3, 4, 5, 6, 0, 3, 6];

  it('perfect: accuracy 1, macro-F1 1, diagonal confusion', () => {
    const s = summarize(
      labels.map((l) => row(l, 0.9)),
      labels,
    );
    expect(s.n).toBe(10);
    expect(s.accuracy).toBe(1);
    expect(s.macroF1).toBe(1);
    for (const name of EXPRESSION_LABELS) {
      expect(s.perClass[name].precision).toBe(1);
      expect(s.perClass[name].recall).toBe(1);
    }
    expect(s.perClass.angry.support).toBe(2);
    expect(s.confusion[0]).toEqual([2, 0, 0, 0, 0, 0, 0]);
    expect(s.confusion.reduce((t, r, i) => t + r[i], 0)).toBe(10);
    // Every sample at confidence 0.9, all correct: ECE = |1 - 0.9|.
    expect(s.ece).toBeCloseTo(0.1, 12);
  });

  it('all wrong: accuracy 0, macro-F1 0, empty diagonal', () => {
    const preds = labels.map((l) => (l + 1) % 7);
    expect(accuracy(labels, preds)).toBe(0);
    const m = confusionMatrix(labels, preds);
    expect(macroF1(m)).toBe(0);
    expect(m.every((r, i) => r[i] === 0)).toBe(true);
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(10);
    const s = summarize(
      preds.map((p) => row(p, 0.6)),
      labels,
    );
    expect(s.accuracy).toBe(0);
    expect(s.ece).toBeCloseTo(0.6, 12);
  });
});

describe('a small confusion computed by hand', () => {
  // true:      0 0 0 1 1 2
  // predicted: 0 0 1 1 2 2
  const labels = [0, 0, 0, 1, 1, 2];
  const preds = [0, 0, 1, 1, 2, 2];

  it('confusion rows are true classes, columns predicted', () => {
    expect(confusionMatrix(labels, preds, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
  });

  it('precision, recall, F1, support and macro-F1', () => {
    const m = confusionMatrix(labels, preds, 3);
    const per = perClassMetrics(m);
    // class 0: p = 2/2, r = 2/3, F1 = 2·1·(2/3)/(5/3) = 0.8
    expect(per[0].precision).toBeCloseTo(1, 12);
    expect(per[0].recall).toBeCloseTo(2 / 3, 12);
    expect(per[0].f1).toBeCloseTo(0.8, 12);
    expect(per[0].support).toBe(3);
    // class 1: p = 1/2, r = 1/2, F1 = 0.5
    expect(per[1].precision).toBeCloseTo(0.5, 12);
    expect(per[1].recall).toBeCloseTo(0.5, 12);
    expect(per[1].f1).toBeCloseTo(0.5, 12);
    // class 2: p = 1/2, r = 1, F1 = 2/3
    expect(per[2].precision).toBeCloseTo(0.5, 12);
    expect(per[2].recall).toBeCloseTo(1, 12);
    expect(per[2].f1).toBeCloseTo(2 / 3, 12);
    expect(macroF1(m)).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(accuracy(labels, preds)).toBeCloseTo(4 / 6, 12);
  });

  it('over all 7 classes, absent classes count as F1 0 in the macro mean (as metrics.py)', () => {
    const s = summarize(
      preds.map((p) => row(p, 0.5)),
      labels,
    );
    expect(s.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 7, 12);
    expect(s.perClass.happy).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(s.accuracy).toBeCloseTo(4 / 6, 12);
  });
});

describe('calibration', () => {
  it('ECE of a known case: two populated bins', () => {
    // 10 samples at confidence 0.9 with 8 correct (gap 0.1), 10 at 0.5 with 5 correct (gap 0).
    const probs: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 10; i++) {
      probs.push(row(3, 0.9));
      labels.push(i < 8 ? 3 : 4);
    }
    for (let i = 0; i < 10; i++) {
      probs.push(row(6, 0.5));
      labels.push(i < 5 ? 6 : 0);
    }
    expect(expectedCalibrationError(probs, labels)).toBeCloseTo(0.5 * 0.1, 12);
    const bins = reliabilityBins(probs, labels);
    expect(bins).toHaveLength(15);
    const populated = bins.filter((b) => b.count > 0);
    expect(populated).toHaveLength(2);
    expect(populated[0]).toMatchObject({ count: 10, accuracy: 0.5 });
    expect(populated[0].confidence).toBeCloseTo(0.5, 12);
    expect(populated[1]).toMatchObject({ count: 10, accuracy: 0.8 });
    expect(populated[1].lo).toBeCloseTo(13 / 15, 12);
    expect(eceFromBins(bins)).toBeCloseTo(0.05, 12);
  });

  it('bins are (lo, hi]: a confidence on an edge belongs to the lower bin, 1.0 to the last', () => {
    const probs = [
      [0.2, 0.2, 0.2, 0.2, 0.1, 0.05, 0.05], // conf 0.2 = edge 3/15 → bin 2 (2/15, 3/15]
      [1, 0, 0, 0, 0, 0, 0], // conf 1 → bin 14
    ];
    const bins = reliabilityBins(probs, [0, 0]);
    expect(bins[2].count).toBe(1);
    expect(bins[3].count).toBe(0);
    expect(bins[14].count).toBe(1);
    expect(bins[0].lo).toBe(0);
    expect(bins[14].hi).toBe(1);
  });

  it('NLL: mean -log p(true), clipped at 1e-12', () => {
    expect(negativeLogLikelihood([row(0, 0.5)], [0])).toBeCloseTo(Math.log(2), 12);
    expect(negativeLogLikelihood([[1, 0, 0, 0, 0, 0, 0]], [1])).toBeCloseTo(-Math.log(1e-12), 9);
  });
});

describe('input checks', () => {
  it('rejects length mismatches and labels outside 0..k-1', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(/length/);
    expect(() => confusionMatrix([7], [0])).toThrow(/sample 0/);
  });

  it('empty input gives zeros, not NaN', () => {
    const s = summarize([], []);
    expect(s.n).toBe(0);
    expect(s.accuracy).toBe(0);
    expect(s.ece).toBe(0);
    expect(s.nll).toBe(0);
  });
});
