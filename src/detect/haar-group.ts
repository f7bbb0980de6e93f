/** OpenCV's groupRectangles: cluster raw Haar windows into faces, as cv::groupRectangles does. */
import type { Box } from '../types.js';

/** eps of OpenCV's groupRectangles as detectMultiScale calls it. */
export const HAAR_GROUP_EPS = 0.2;

/** OpenCV's cvRound: round half to even (lrint). */
export function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * OpenCV's groupRectangles(rects, weights, groupThreshold, eps): `rects` is x, y, w, h flattened.
 * Returns the kept rectangles with their cluster sizes, in OpenCV's cluster order.
 */
export function groupRectangles(
  rects: readonly number[],
  groupThreshold: number,
  eps = HAAR_GROUP_EPS,
): { box: Box; neighbors: number }[] {
  const n = rects.length / 4;
  if (n === 0) return [];
  if (groupThreshold <= 0) {
    const out: { box: Box; neighbors: number }[] = [];
    for (let i = 0; i < n; i++) {
      out.push({
        box: { x: rects[i * 4], y: rects[i * 4 + 1], width: rects[i * 4 + 2], height: rects[i * 4 + 3] },
        neighbors: 1,
      });
    }
    return out;
  }
  // partition(): union–find over the SimilarRects relation, classes numbered by first appearance.
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r];
    while (parent[i] !== r) {
      const next = parent[i];
      parent[i] = r;
      i = next;
    }
    return r;
  };
  for (let i = 0; i < n; i++) {
    const x1 = rects[i * 4];
    const y1 = rects[i * 4 + 1];
    const w1 = rects[i * 4 + 2];
    const h1 = rects[i * 4 + 3];
    for (let j = i + 1; j < n; j++) {
      const x2 = rects[j * 4];
      const y2 = rects[j * 4 + 1];
      const w2 = rects[j * 4 + 2];
      const h2 = rects[j * 4 + 3];
      const delta = eps * (Math.min(w1, w2) + Math.min(h1, h2)) * 0.5;
      if (
        Math.abs(x1 - x2) <= delta &&
        Math.abs(y1 - y2) <= delta &&
        Math.abs(x1 + w1 - x2 - w2) <= delta &&
        Math.abs(y1 + h1 - y2 - h2) <= delta
      ) {
        const a = find(i);
        const b = find(j);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  }
  const label = new Int32Array(n).fill(-1);
  const classOf = new Int32Array(n);
  let nClasses = 0;
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (label[r] < 0) label[r] = nClasses++;
    classOf[i] = label[r];
  }
  const acc = new Float64Array(nClasses * 4);
  const count = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) {
    const k = classOf[i];
    for (let d = 0; d < 4; d++) acc[k * 4 + d] += rects[i * 4 + d];
    count[k]++;
  }
  const avg: Box[] = [];
  for (let k = 0; k < nClasses; k++) {
    const s = Math.fround(1 / count[k]);
    const r = (d: number) => cvRound(Math.fround(acc[k * 4 + d] * s));
    avg.push({ x: r(0), y: r(1), width: r(2), height: r(3) });
  }
  const out: { box: Box; neighbors: number }[] = [];
  for (let i = 0; i < nClasses; i++) {
    const r1 = avg[i];
    const n1 = count[i];
    if (n1 <= groupThreshold) continue;
    // Drop a small rectangle lying inside a bigger cluster that is stronger (or when it is itself weak).
    let inside = false;
    for (let j = 0; j < nClasses && !inside; j++) {
      const n2 = count[j];
      if (j === i || n2 <= groupThreshold) continue;
      const r2 = avg[j];
      const dx = cvRound(r2.width * eps);
      const dy = cvRound(r2.height * eps);
      inside =
        r1.x >= r2.x - dx &&
        r1.y >= r2.y - dy &&
        r1.x + r1.width <= r2.x + r2.width + dx &&
        r1.y + r1.height <= r2.y + r2.height + dy &&
        (n2 > Math.max(3, n1) || n1 < 3);
    }
    if (!inside) out.push({ box: r1, neighbors: n1 });
  }
  return out;
}
