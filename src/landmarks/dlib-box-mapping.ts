/**
 * Face box → dlib's box convention, per ferkit detector. dlib's 68-point model was trained on the
 * rectangles of dlib's HOG detector (get_frontal_face_detector); it places its mean shape relative
 * to that rectangle, so boxes from another detector (SSD boxes include the forehead; Haar boxes are
 * larger squares) put the points in the wrong place unless mapped first.
 *
 * Mapping (box-relative, same 4-parameter form as src/eval/afw.ts's box calibration):
 *   cx' = cx + ox·w,  cy' = cy + oy·h,  w' = sw·w,  h' = sh·h.
 */
import type { Box } from '../types.js';

export interface DlibBoxMapping {
  /** Centre shift as a fraction of the box's width / height. */
  ox: number;
  oy: number;
  /** Size factors. */
  sw: number;
  sh: number;
}

export const IDENTITY_BOX_MAPPING: DlibBoxMapping = { ox: 0, oy: 0, sw: 1, sh: 1 };

/** The detectors whose boxes have a fitted mapping; 'dlib' = dlib's own HOG boxes (no mapping). */
export type DlibBoxSource = 'dlib' | 'cnn' | 'blazeface' | 'haar';

/**
 * Fitted on AFW (../shared/data/afw: 185 photos, 337 faces; the only data these constants saw) with
 * `npx tsc -p tsconfig.json && node scripts/fit-dlib-box-mapping.mjs` (src/eval/dlib-box-fit.ts):
 * per-parameter medians over the AFW faces found by both the detector (as createFaceDetector makes
 * it) and dlib's HOG detector (dlib's C++ get_frontal_face_detector, upsample 1), from the
 * detector's box to dlib's rectangle. Held-out (2-fold) median NME of dlib's predictor on AFW,
 * unmapped → mapped: cnn 0.0824 → 0.0371 (302 pairs), haar 0.0317 → 0.0316 (282 pairs), blazeface
 * 0.0379 → 0.0359 (303 pairs; 2026-12-04); on dlib's own boxes 0.0318. See BENCHMARKS.md, "dlib shape predictor".
 */
export const DLIB_BOX_MAPPINGS: Readonly<Record<DlibBoxSource, DlibBoxMapping>> = {
  dlib: IDENTITY_BOX_MAPPING,
  cnn: { ox: 0.0014, oy: 0.0613, sw: 1.105, sh: 0.7773 },
  blazeface: { ox: 0.0097, oy: -0.0378, sw: 1.0177, sh: 1.0213 },
  haar: { ox: -0.0063, oy: 0.0612, sw: 0.9015, sh: 0.9062 },
};

export function mapBox(box: Box, m: DlibBoxMapping): Box {
  const cx = box.x + box.width / 2 + m.ox * box.width;
  const cy = box.y + box.height / 2 + m.oy * box.height;
  const width = box.width * m.sw;
  const height = box.height * m.sh;
  return { x: cx - width / 2, y: cy - height / 2, width, height };
}
