/**
 * Face tracking across frames: greedy IoU matching gives each face a stable id that survives
 * short misses, and an exponential moving average smooths its expression probabilities.
 * Host-free: shared by the browser app, `ferkit video`, `ferkit camera` and the WebSocket stream.
 */

import { FerkitError } from '../errors.js';
import { toExpressionResult } from '../expression/classifier.js';
import { iou } from '../image/ops.js';
import type { FaceResult } from '../pipeline/types.js';
import { type Box, EXPRESSION_LABELS, type ExpressionProbabilities } from '../types.js';

export interface TrackerOptions {
  /** Minimum IoU between a track's last box and a detection to continue the track (default 0.3). */
  iouThreshold?: number;
  /** Frames a track may go unseen before its id is retired (default 15, ~0.5 s at 30 fps). */
  maxMissed?: number;
  /** EMA weight of the newest frame, 0..1; 1 = no smoothing (default 0.4). */
  smoothing?: number;
  /**
   * Classify each tracked face's expression on every Nth frame only (default 1: every frame);
   * in between, `reusableExpressions` offers its last probabilities. Tracks take turns by id, so
   * with several faces the work spreads evenly over frames. A new face is always classified.
   */
  expressionEvery?: number;
}

/** Throws E_INPUT naming `field`.<option> unless every given option is in range. */
export function checkTrackerOptions(o: TrackerOptions, field = 'tracking'): void {
  const bad = (name: string, why: string, value: unknown) => {
    throw new FerkitError('E_INPUT', `${field}.${name}: ${why}, got ${value}`);
  };
  if (o.iouThreshold !== undefined && !(o.iouThreshold > 0 && o.iouThreshold <= 1)) {
    bad('iouThreshold', 'must be in (0, 1]', o.iouThreshold);
  }
  if (o.maxMissed !== undefined && !(Number.isInteger(o.maxMissed) && o.maxMissed >= 0)) {
    bad('maxMissed', 'must be an integer ≥ 0', o.maxMissed);
  }
  if (o.smoothing !== undefined && !(o.smoothing > 0 && o.smoothing <= 1))
    bad('smoothing', 'must be in (0, 1]', o.smoothing);
  if (o.expressionEvery !== undefined && !(Number.isInteger(o.expressionEvery) && o.expressionEvery >= 1)) {
    bad('expressionEvery', 'must be a positive integer', o.expressionEvery);
  }
}

export interface TrackedFace extends FaceResult {
  id: number;
  /** The raw (unsmoothed) probabilities of this frame; `expression` holds the smoothed ones. */
  rawProbabilities: ExpressionProbabilities;
  /** Consecutive frames this track has been matched. */
  age: number;
}

interface Track {
  id: number;
  box: FaceResult['box'];
  probs: Float64Array;
  /** The last classified (unsmoothed) probabilities. */
  raw: ExpressionProbabilities;
  missed: number;
  age: number;
}

export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly iouThreshold: number;
  private readonly maxMissed: number;
  private readonly smoothing: number;
  private readonly expressionEvery: number;
  private frame = 0;

  constructor(options: TrackerOptions = {}) {
    checkTrackerOptions(options);
    this.iouThreshold = options.iouThreshold ?? 0.3;
    this.maxMissed = options.maxMissed ?? 15;
    this.smoothing = options.smoothing ?? 0.4;
    this.expressionEvery = options.expressionEvery ?? 1;
  }

  /** Greedy matching by IoU, best pairs first: the track each box continues, if any. */
  private match(boxes: readonly Box[]): Map<number, Track> {
    const pairs: [number, number, number][] = [];
    this.tracks.forEach((t, ti) => {
      boxes.forEach((b, bi) => {
        const o = iou(t.box, b);
        if (o >= this.iouThreshold) pairs.push([o, ti, bi]);
      });
    });
    pairs.sort((a, b) => b[0] - a[0]);
    const trackOf = new Map<number, Track>();
    const usedTracks = new Set<number>();
    for (const [, ti, bi] of pairs) {
      if (usedTracks.has(ti) || trackOf.has(bi)) continue;
      usedTracks.add(ti);
      trackOf.set(bi, this.tracks[ti]);
    }
    return trackOf;
  }

  /**
   * Before classifying the next frame's faces (at these boxes): for each, the probabilities it may
   * reuse instead, or undefined where it must be classified (a new face, or its turn by
   * `expressionEvery`). Pass the reused ones to update() with `expressionReused: true`.
   */
  reusableExpressions(boxes: readonly Box[]): (ExpressionProbabilities | undefined)[] {
    if (this.expressionEvery === 1) return boxes.map(() => undefined);
    const trackOf = this.match(boxes);
    return boxes.map((_, i) => {
      const t = trackOf.get(i);
      return t && (this.frame + t.id) % this.expressionEvery !== 0 ? t.raw : undefined;
    });
  }

  /** Feed one frame's faces; returns them with ids and smoothed expressions, in input order. */
  update(faces: readonly FaceResult[]): TrackedFace[] {
    this.frame++;
    const trackOf = this.match(faces.map((f) => f.box));
    const matched = new Set(trackOf.values());
    for (const t of this.tracks) if (!matched.has(t)) t.missed++;
    const out = faces.map((f, fi) => {
      const p = EXPRESSION_LABELS.map((l) => f.expression.probabilities[l]);
      let t = trackOf.get(fi);
      if (!t) {
        t = {
          id: this.nextId++,
          box: f.box,
          probs: Float64Array.from(p),
          raw: f.expression.probabilities,
          missed: 0,
          age: 0,
        };
        this.tracks.push(t);
      } else {
        // Reused probabilities are not a new observation: averaging them in again would only
        // pull the smoothed value towards an old frame.
        if (!f.expressionReused) {
          for (let i = 0; i < p.length; i++) t.probs[i] = this.smoothing * p[i] + (1 - this.smoothing) * t.probs[i];
          t.raw = f.expression.probabilities;
        }
        t.box = f.box;
        t.missed = 0;
      }
      t.age++;
      return {
        ...f,
        id: t.id,
        age: t.age,
        rawProbabilities: f.expression.probabilities,
        expression: toExpressionResult(t.probs),
      };
    });
    this.tracks = this.tracks.filter((t) => t.missed <= this.maxMissed);
    return out;
  }

  /** Forget all tracks (e.g. at a shot change); ids start again at 1. */
  reset(): void {
    this.tracks = [];
    this.nextId = 1;
    this.frame = 0;
  }

  get activeTracks(): number {
    return this.tracks.length;
  }
}
