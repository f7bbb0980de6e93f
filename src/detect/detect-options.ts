/** Validation of the per-call options the CNN detectors (SSD and tiny) share. */
import { FerkitError } from '../errors.js';

/** The shared per-call options once a detector has filled in its defaults. */
export interface ResolvedDetectOptions {
  scoreThreshold: number;
  iouThreshold: number;
  maxFaces: number;
  minFaceSize: number;
}

/**
 * Returns `o` unchanged, or throws FerkitError('E_INPUT') naming the first option out of range. One
 * check for both detectors, so they refuse the same values with the same messages; the defaults stay
 * with each detector (they differ, and the tiny one keeps face-api's).
 */
export function validateDetectOptions<T extends ResolvedDetectOptions>(o: T): T {
  const bad = (what: string) => new FerkitError('E_INPUT', `detect: ${what}`);
  if (!(o.scoreThreshold >= 0 && o.scoreThreshold < 1))
    throw bad(`scoreThreshold must be in [0, 1), got ${o.scoreThreshold}`);
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1)) throw bad(`iouThreshold must be in (0, 1], got ${o.iouThreshold}`);
  if (!Number.isInteger(o.maxFaces) || o.maxFaces < 1)
    throw bad(`maxFaces must be a positive integer, got ${o.maxFaces}`);
  if (!(o.minFaceSize >= 0)) throw bad(`minFaceSize must be ≥ 0, got ${o.minFaceSize}`);
  return o;
}
