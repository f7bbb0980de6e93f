/** Options of the dlib HOG detector and their checks (FerkitError('E_INPUT') naming the option). */
import { FerkitError } from '../../errors.js';
import type { DetectOptions } from '../types.js';

export interface DlibHogOptions extends DetectOptions {
  /** Times the image is upsampled 2× (dlib's pyramid_up) before detecting, 0..8; default 1 like dlib's `detector(img, 1)`. Each step finds faces half as small and costs ~4× the time. */
  upsample?: number;
  /** Added to every filter's threshold (dlib's adjust_threshold); default 0. Negative finds more, weaker faces. */
  adjustThreshold?: number;
}

export const DLIB_HOG_DEFAULTS = {
  upsample: 1,
  adjustThreshold: 0,
  scoreThreshold: 0,
  minFaceSize: 0,
  maxFaces: 100,
} as const;
export const DLIB_HOG_MAX_UPSAMPLE = 8;
/** Refuse an upsampled image over this many pixels (E_INPUT) rather than run out of memory. */
export const DLIB_HOG_MAX_PIXELS = 100_000_000;

/** Throws FerkitError('E_INPUT', 'dlib detector: <option> …') for the first option out of range. */
export function checkDlibHogOptions(o: DlibHogOptions): void {
  const bad = (msg: string): never => {
    throw new FerkitError('E_INPUT', `dlib detector: ${msg}`);
  };
  if (
    o.upsample !== undefined &&
    !(Number.isInteger(o.upsample) && o.upsample >= 0 && o.upsample <= DLIB_HOG_MAX_UPSAMPLE)
  )
    bad(`upsample must be an integer in [0, ${DLIB_HOG_MAX_UPSAMPLE}], got ${o.upsample}`);
  if (o.adjustThreshold !== undefined && !Number.isFinite(o.adjustThreshold))
    bad(`adjustThreshold must be a finite number, got ${o.adjustThreshold}`);
  if (o.scoreThreshold !== undefined && !(o.scoreThreshold >= 0 && o.scoreThreshold < 1))
    bad(`scoreThreshold must be in [0, 1), got ${o.scoreThreshold}`);
  if (o.minFaceSize !== undefined && !(Number.isFinite(o.minFaceSize) && o.minFaceSize >= 0))
    bad(`minFaceSize must be ≥ 0, got ${o.minFaceSize}`);
  if (o.maxFaces !== undefined && !(Number.isInteger(o.maxFaces) && o.maxFaces >= 1))
    bad(`maxFaces must be a positive integer, got ${o.maxFaces}`);
}
