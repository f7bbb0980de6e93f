import { describe, expect, it } from 'vitest';
import { type PipelineStages, runPipeline } from '../src/pipeline/run.js';
import type { FaceResult } from '../src/pipeline/types.js';
import { checkTrackerOptions, FaceTracker } from '../src/track/tracker.js';
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

describe('expression work spread over frames (expressionEvery)', () => {
  it('classifies new faces at once, then each tracked face every Nth frame, faces taking turns', () => {
    const t = new FaceTracker({ expressionEvery: 2, smoothing: 0.5 });
    const boxes = [face(0, 0, 0.9).box, face(300, 0, 0.9).box];
    expect(t.reusableExpressions(boxes)).toEqual([undefined, undefined]); // no tracks yet
    t.update([face(0, 0, 0.9), face(300, 0, 0.1)]);
    const classified: number[][] = [];
    for (let frame = 0; frame < 6; frame++) {
      const reuse = t.reusableExpressions(boxes);
      classified.push(reuse.flatMap((r, i) => (r ? [] : [i])));
      // a reused face repeats its track's last classified probabilities
      if (reuse[0]) expect(reuse[0].happy).toBeCloseTo(0.8, 6);
      t.update([
        reuse[0]
          ? { ...face(0, 0, 0), expression: { label: 'happy', probabilities: reuse[0] }, expressionReused: true }
          : face(0, 0, 0.8),
        reuse[1]
          ? { ...face(300, 0, 0), expression: { label: 'happy', probabilities: reuse[1] }, expressionReused: true }
          : face(300, 0, 0.2),
      ]);
    }
    // one face per frame, alternating: each is classified every 2nd frame
    expect(classified).toEqual([[0], [1], [0], [1], [0], [1]]);
    // a face entering the scene is classified on its first frame whatever the phase
    expect(t.reusableExpressions([...boxes, face(600, 0, 0.5).box])[2]).toBeUndefined();
  });

  it('does not average reused probabilities into the smoothed ones again', () => {
    const t = new FaceTracker({ expressionEvery: 3, smoothing: 0.5 });
    t.update([face(0, 0, 1)]);
    t.update([face(0, 0, 0)]); // fresh results are always taken: smoothed happy 0.5
    t.update([face(0, 0, 0)]); // 0.25
    const [r] = t.reusableExpressions([face(0, 0, 0).box]);
    expect(r?.happy).toBe(0); // not this face's turn: its last raw value is offered
    const [f] = t.update([
      { ...face(0, 0, 0), expression: { label: 'sad', probabilities: r! }, expressionReused: true },
    ]);
    expect(f.expression.probabilities.happy).toBeCloseTo(0.25, 6);
    expect(t.reusableExpressions([face(0, 0, 0).box])[0]).toBe(r); // 2 of every 3 frames reuse
  });

  it('rejects an expressionEvery that is not a positive integer', () => {
    expect(() => new FaceTracker({ expressionEvery: 0 })).toThrow(
      /tracking.expressionEvery: must be a positive integer, got 0/,
    );
    expect(() => new FaceTracker({ expressionEvery: 1.5 })).toThrow(/expressionEvery/);
  });

  it("names the option and the caller's field in every range error", () => {
    expect(() => checkTrackerOptions({ smoothing: 0 }, 'options.tracking')).toThrow(
      /^options\.tracking\.smoothing: must be in \(0, 1\], got 0$/,
    );
    expect(() => checkTrackerOptions({ iouThreshold: 1.5 })).toThrow(/^tracking\.iouThreshold: /);
    expect(() => checkTrackerOptions({ maxMissed: -1 })).toThrow(/^tracking\.maxMissed: /);
    expect(() =>
      checkTrackerOptions({ smoothing: 1, expressionEvery: 3, iouThreshold: 0.3, maxMissed: 0 }),
    ).not.toThrow();
  });
});

describe('runPipeline with expression reuse', () => {
  it('classifies only the faces not reused, and marks the reused ones', async () => {
    const image = { width: 400, height: 200, data: new Uint8Array(400 * 200 * 3).fill(128) };
    const boxes = [
      { x: 20, y: 20, width: 120, height: 120 },
      { x: 220, y: 30, width: 120, height: 120 },
    ];
    const ring = (b: (typeof boxes)[number]) =>
      Array.from({ length: 68 }, (_, k) => ({
        x: b.x + b.width / 2 + (b.width / 3) * Math.cos((k / 68) * 2 * Math.PI),
        y: b.y + b.height / 2 + (b.height / 3) * Math.sin((k / 68) * 2 * Math.PI),
      }));
    const batches: number[] = [];
    const stages = {
      detector: { name: 'fixed', detect: () => boxes.map((box) => ({ box, score: 0.9 })), dispose() {} },
      landmarks: { name: 'ring', detect: async (_: unknown, bs: readonly typeof boxes) => bs.map(ring), dispose() {} },
      classifier: {
        probabilities: async (crops: unknown[]) => {
          batches.push(crops.length);
          return crops.map(() => Float64Array.from([0, 0, 0, 1, 0, 0, 0]));
        },
      },
    } as unknown as PipelineStages;
    const old = face(0, 0, 0).expression.probabilities; // happy 0: distinguishable from a fresh result
    const r = await runPipeline(stages, image, {}, 0, (bs) => bs.map((_, i) => (i === 1 ? old : undefined)));
    expect(batches).toEqual([1]);
    expect(r.faces.map((f) => f.expressionReused ?? false)).toEqual([false, true]);
    expect(r.faces[0].expression.probabilities.happy).toBe(1);
    expect(r.faces[1].expression.probabilities.happy).toBe(0);
    expect(r.faces[1].expression.label).not.toBe('happy');
  });
});
