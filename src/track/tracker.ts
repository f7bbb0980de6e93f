/**
 * Face tracking across frames: greedy IoU matching gives each face a stable id that survives
 * short misses, and an exponential moving average smooths its expression probabilities.
 * Host-free: shared by the browser app, `ferkit video`, `ferkit camera` and the WebSocket stream.
 */

import { toExpressionResult } from '../expression/classifier.js';
import { iou } from '../image/ops.js';
import type { FaceResult } from '../pipeline/types.js';
import { EXPRESSION_LABELS, type ExpressionProbabilities } from '../types.js';

export interface TrackerOptions {
  /** Minimum IoU between a track's last box and a detection to continue the track (default 0.3). */
  iouThreshold?: number;
  /** Frames a track may go unseen before its id is retired (default 15, ~0.5 s at 30 fps). */
  maxMissed?: number;
  /** EMA weight of the newest frame, 0..1; 1 = no smoothing (default 0.4). */
  smoothing?: number;
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
  missed: number;
  age: number;
}

export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly iouThreshold: number;
  private readonly maxMissed: number;
  private readonly smoothing: number;

  constructor(options: TrackerOptions = {}) {
    this.iouThreshold = options.iouThreshold ?? 0.3;
    this.maxMissed = options.maxMissed ?? 15;
    this.smoothing = options.smoothing ?? 0.4;
    if (!(this.smoothing > 0 && this.smoothing <= 1)) throw new RangeError('smoothing must be in (0, 1]');
  }

  /** Feed one frame's faces; returns them with ids and smoothed expressions, in input order. */
  update(faces: readonly FaceResult[]): TrackedFace[] {
    const pairs: [number, number, number][] = [];
    this.tracks.forEach((t, ti) => {
      faces.forEach((f, fi) => {
        const o = iou(t.box, f.box);
        if (o >= this.iouThreshold) pairs.push([o, ti, fi]);
      });
    });
    pairs.sort((a, b) => b[0] - a[0]);
    const trackOf = new Map<number, Track>();
    const usedTracks = new Set<number>();
    for (const [, ti, fi] of pairs) {
      if (usedTracks.has(ti) || trackOf.has(fi)) continue;
      usedTracks.add(ti);
      trackOf.set(fi, this.tracks[ti]);
    }
    this.tracks.forEach((t, ti) => {
      if (!usedTracks.has(ti)) t.missed++;
    });
    const out = faces.map((f, fi) => {
      const p = EXPRESSION_LABELS.map((l) => f.expression.probabilities[l]);
      let t = trackOf.get(fi);
      if (!t) {
        t = { id: this.nextId++, box: f.box, probs: Float64Array.from(p), missed: 0, age: 0 };
        this.tracks.push(t);
      } else {
        for (let i = 0; i < p.length; i++) t.probs[i] = this.smoothing * p[i] + (1 - this.smoothing) * t.probs[i];
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
  }

  get activeTracks(): number {
    return this.tracks.length;
  }
}
