/**
 * Face alignment: a similarity transform (rotation, uniform scale, translation) that maps a face's
 * landmarks onto the canonical FER2013 framing, so in-the-wild faces look like the training data.
 */
import { warpAffineToGray } from '../image/ops.js';
import type { GrayImage, Point, RgbImage } from '../types.js';
import template from './fer-template.json' with { type: 'json' };

/** The landmark indices the fit uses: brows, nose, eyes and mouth (17–67). The jaw line (0–16) moves with pose and hair. */
export const ALIGNMENT_POINTS: readonly number[] = Array.from({ length: 51 }, (_, i) => 17 + i);

export interface AlignmentTemplate {
  /** Side of the canonical crop in pixels (48 for FER2013). */
  size: number;
  /** Mean positions of all 68 points in the canonical crop. */
  points: Point[];
  /** How the template was derived (for the docs and the model card). */
  source: string;
}

export const FER2013_TEMPLATE: AlignmentTemplate = template as AlignmentTemplate;

/** Similarity [a, -b, tx; b, a, ty] with src→dst least-squares fit (Umeyama without reflection). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export function fitSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0];
    sy += src[i][1];
    dx += dst[i][0];
    dy += dst[i][1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let num0 = 0;
  let num1 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i][0] - sx;
    const py = src[i][1] - sy;
    const qx = dst[i][0] - dx;
    const qy = dst[i][1] - dy;
    // (q) · conj(p) in complex form gives a + ib = s·e^{iθ}
    num0 += qx * px + qy * py;
    num1 += qy * px - qx * py;
    den += px * px + py * py;
  }
  const a = num0 / den;
  const b = num1 / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return [t.a * p[0] - t.b * p[1] + t.tx, t.b * p[0] + t.a * p[1] + t.ty];
}

/** The dst→src affine map [a, b, c, d, e, f] of the inverse similarity, for warpAffineToGray. */
export function inverseAffine(t: Similarity): number[] {
  const det = t.a * t.a + t.b * t.b;
  const ia = t.a / det;
  const ib = -t.b / det;
  // inverse: p = R^-1 (q - t)
  return [ia, -ib, -(ia * t.tx - ib * t.ty), ib, ia, -(ib * t.tx + ia * t.ty)];
}

/** The canonical grey crop (template.size²) of one face, given its 68 landmarks in image pixels. */
export function alignFace(
  image: RgbImage | GrayImage,
  landmarks: readonly Point[],
  tpl: AlignmentTemplate = FER2013_TEMPLATE,
): Uint8Array {
  const src = ALIGNMENT_POINTS.map((i) => landmarks[i]);
  const dst = ALIGNMENT_POINTS.map((i) => tpl.points[i]);
  const t = fitSimilarity(src, dst);
  return warpAffineToGray(image, inverseAffine(t), tpl.size, tpl.size);
}
