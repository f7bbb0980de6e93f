import { describe, expect, it } from 'vitest';
import type { FaceResult } from '../src/pipeline/types.js';
import { FaceTracker } from '../src/track/tracker.js';
import { EXPRESSION_LABELS } from '../src/types.js';

function face(x: number, y: number, happy: number): FaceResult {
  const probabilities = Object.fromEntries(
    EXPRESSION_LABELS.map((l) => [l, l === 'happy' ? happy : (1 - happy) / 6]),
  ) as FaceResult['expression']['probabilities'];
  return {
    box: { x, y, width: 100, height: 100 },
    score: 0.9,
    landmarks: [],
    expression: { label: 'happy', probabilities },
  };
}

describe('FaceTracker', () => {
  it('keeps ids stable for moving faces and through short misses, and retires long-gone tracks', () => {
    const t = new FaceTracker({ maxMissed: 2, smoothing: 1 });
    const a = t.update([face(0, 0, 0.9), face(300, 0, 0.9)]);
    expect(a.map((f) => f.id)).toEqual([1, 2]);
    const b = t.update([face(310, 5, 0.9), face(10, 5, 0.9)]); // order swapped and moved
    expect(b.map((f) => f.id)).toEqual([2, 1]);
    t.update([face(12, 6, 0.9)]); // face 2 missed once
    const c = t.update([face(14, 6, 0.9), face(312, 4, 0.9)]);
    expect(c.map((f) => f.id)).toEqual([1, 2]);
    t.update([face(14, 6, 0.9)]);
    t.update([face(14, 6, 0.9)]);
    t.update([face(14, 6, 0.9)]); // face 2 missed 3 > maxMissed times: retired
    const d = t.update([face(14, 6, 0.9), face(312, 4, 0.9)]);
    expect(d.map((f) => f.id)).toEqual([1, 3]);
  });

  it('smooths probabilities with an EMA and keeps them summing to 1', () => {
    const t = new FaceTracker({ smoothing: 0.5 });
    t.update([face(0, 0, 1)]);
    const [f] = t.update([face(0, 0, 0)]);
    expect(f.expression.probabilities.happy).toBeCloseTo(0.5, 6);
    expect(f.rawProbabilities.happy).toBe(0);
    const sum = Object.values(f.expression.probabilities).reduce((s, v) => s + v, 0);
    expect(sum).toBeCloseTo(1, 6);
  });
});
