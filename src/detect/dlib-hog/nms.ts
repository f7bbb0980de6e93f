/**
 * dlib's non-max suppression for object_detector (dlib/image_processing/object_detector.h,
 * box_overlap_testing.h): detections sorted by confidence, best first, each kept unless it overlaps
 * a detection already kept, where two rectangles overlap (test_box_overlap) when
 *   |A ∩ B| / |bounding box of A and B| > iou   or   |A ∩ B| / |A| > covered   or   |A ∩ B| / |B| > covered.
 * Note dlib's "union" is the smallest rectangle holding both, not the area of A ∪ B.
 */
import type { Rect } from './pyramid.js';

/** Pixels in a dlib rectangle (inclusive sides; 0 when empty). */
export function rectArea(r: Rect): number {
  const w = r[2] - r[0] + 1;
  const h = r[3] - r[1] + 1;
  return w > 0 && h > 0 ? w * h : 0;
}

/** test_box_overlap(iou, covered)(a, b). */
export function boxesOverlap(a: Rect, b: Rect, iou: number, covered: number): boolean {
  const inner = rectArea([Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]);
  if (inner === 0) return false;
  const aArea = rectArea(a);
  const bArea = rectArea(b);
  let outer: number;
  if (bArea === 0) outer = aArea;
  else if (aArea === 0) outer = bArea;
  else outer = rectArea([Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])]);
  return inner / outer > iou || inner / aArea > covered || inner / bArea > covered;
}

/** Keep, in order, each item whose rect overlaps none kept before it. `items` must be sorted best first. */
export function suppressOverlaps<T extends { rect: Rect }>(items: readonly T[], iou: number, covered: number): T[] {
  const kept: T[] = [];
  for (const it of items) {
    if (!kept.some((k) => boxesOverlap(k.rect, it.rect, iou, covered))) kept.push(it);
  }
  return kept;
}
