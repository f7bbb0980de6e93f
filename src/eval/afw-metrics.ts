/** AFW scoring, pure and unit-tested: box matching, landmark NME, box calibration, per-detector summaries. */
import { iou, pointsBox } from '../image/ops.js';
import { type DlibBoxMapping, mapBox } from '../landmarks/dlib-box-mapping.js';
import type { Box, Detection, Point } from '../types.js';
import type { AfwImage } from './afw.js';

// ---------------------------------------------------------------------------------------------
// Matching and error math

/** Bounding box of a set of points: the GT face box convention here. */
export { pointsBox };

/** Tolerant match: the GT box centre is inside the detection, and width and height agree within `ratio`×. */
export function tolerantMatch(gt: Box, det: Box, ratio = 2): boolean {
  const cx = gt.x + gt.width / 2;
  const cy = gt.y + gt.height / 2;
  const inside = cx >= det.x && cx <= det.x + det.width && cy >= det.y && cy <= det.y + det.height;
  const agree = (a: number, b: number) => a > 0 && b > 0 && a <= b * ratio && b <= a * ratio;
  return inside && agree(gt.width, det.width) && agree(gt.height, det.height);
}

/**
 * One-to-one matching of GT boxes to detections: among pairs that `accept`, greedily by IoU (best
 * first; ties by lower indices). Returns, per GT box, the index of its detection or -1.
 */
export function matchBoxes(
  gt: readonly Box[],
  det: readonly Box[],
  accept: (gt: Box, det: Box, iou: number) => boolean,
): number[] {
  const pairs: [number, number, number][] = [];
  gt.forEach((g, i) => {
    det.forEach((d, j) => {
      const o = iou(g, d);
      if (accept(g, d, o)) pairs.push([o, i, j]);
    });
  });
  pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const result = gt.map(() => -1);
  const used = new Set<number>();
  for (const [, i, j] of pairs) {
    if (result[i] >= 0 || used.has(j)) continue;
    result[i] = j;
    used.add(j);
  }
  return result;
}

export const byIou =
  (threshold: number) =>
  (_g: Box, _d: Box, o: number): boolean =>
    o >= threshold;
export const byTolerance =
  (ratio = 2) =>
  (g: Box, d: Box): boolean =>
    tolerantMatch(g, d, ratio);

/** Distance between the outer eye corners (iBUG points 36 and 45). */
export function interOcular(points: readonly Point[]): number {
  const [ax, ay] = points[36];
  const [bx, by] = points[45];
  return Math.hypot(bx - ax, by - ay);
}

/** Normalised mean error: mean point-to-point distance / inter-ocular distance of the GT. */
export function nme(predicted: readonly Point[], truth: readonly Point[]): number {
  if (predicted.length !== truth.length || truth.length !== 68) {
    throw new Error(`nme: expected 68 points each, got ${predicted.length} and ${truth.length}`);
  }
  let sum = 0;
  for (let k = 0; k < truth.length; k++) {
    sum += Math.hypot(predicted[k][0] - truth[k][0], predicted[k][1] - truth[k][1]);
  }
  return sum / truth.length / interOcular(truth);
}

/** Detector box → landmark box, in box-relative units (see the module comment). */
export interface BoxCalibration extends DlibBoxMapping {
  /** Pairs it was fitted on. */
  pairs: number;
}

export const IDENTITY_CALIBRATION: BoxCalibration = { ox: 0, oy: 0, sw: 1, sh: 1, pairs: 0 };

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Fits the calibration as per-parameter medians over (detection, GT) pairs; identity when there are none. */
export function fitBoxCalibration(pairs: readonly { det: Box; gt: Box }[]): BoxCalibration {
  const usable = pairs.filter((p) => p.det.width > 0 && p.det.height > 0);
  if (usable.length === 0) return IDENTITY_CALIBRATION;
  const cx = (b: Box) => b.x + b.width / 2;
  const cy = (b: Box) => b.y + b.height / 2;
  return {
    ox: medianOf(usable.map((p) => (cx(p.gt) - cx(p.det)) / p.det.width)),
    oy: medianOf(usable.map((p) => (cy(p.gt) - cy(p.det)) / p.det.height)),
    sw: medianOf(usable.map((p) => p.gt.width / p.det.width)),
    sh: medianOf(usable.map((p) => p.gt.height / p.det.height)),
    pairs: usable.length,
  };
}

/** The same box-relative map as the dlib landmark boxes (centre shift, then size factors). */
export function applyBoxCalibration(box: Box, c: BoxCalibration): Box {
  return mapBox(box, c);
}

// ---------------------------------------------------------------------------------------------
// Scoring detections and landmarks that were already computed (pure; unit-tested)

export interface AfwImageResult {
  file: string;
  /** GT boxes (bounding boxes of the 68 points). */
  gt: Box[];
  detections: Detection[];
  /** Per GT face: predicted 68 points from its tolerant-matched detection, or null. */
  landmarks: (Point[] | null)[];
  /** Detector time for this photo, ms. */
  detectMs: number;
  /** Landmark model time for this photo's matched faces, ms (0 when none ran). */
  landmarkMs?: number;
}

export interface AfwDetectorSummary {
  label: string;
  images: number;
  faces: number;
  detections: number;
  recall: { iou50: number; iou30: number; tolerant: number; calibratedIou50: number };
  /** Calibrations fitted on the even-index photos (applied to the odd ones) and vice versa. */
  calibration: { fitEven: BoxCalibration; fitOdd: BoxCalibration; all: BoxCalibration };
  /** Mean IoU of tolerant matches, raw and calibrated. */
  meanIou: { raw: number; calibrated: number };
  nme: { faces: number; mean: number; median: number; under008: number; under010: number };
  /** Median detector ms per photo. */
  detectMsMedian: number;
  /** Median over photos with landmarked faces of the landmark model's ms per face (NaN when none ran). */
  landmarkMsPerFaceMedian: number;
}

/**
 * Every metric of one detector from its per-photo results (photos in AFW order: index parity = fold).
 * `include` restricts the face counts, recall and NME to some GT faces (e.g. one head-pose bin);
 * matching and the box calibrations still use every face, so subsets that partition the faces
 * add up to the unrestricted summary.
 */
export function summarizeAfw(
  label: string,
  results: readonly AfwImageResult[],
  truth: readonly AfwImage[],
  include: (image: number, face: number) => boolean = () => true,
): AfwDetectorSummary {
  if (results.length !== truth.length) throw new Error('summarizeAfw: results and truth differ in length');
  const tolerant = results.map((r) =>
    matchBoxes(
      r.gt,
      r.detections.map((d) => d.box),
      byTolerance(),
    ),
  );
  const pairsOf = (fold: 0 | 1 | 'all') =>
    results.flatMap((r, i) =>
      fold !== 'all' && i % 2 !== fold
        ? []
        : tolerant[i].flatMap((j, g) => (j >= 0 ? [{ det: r.detections[j].box, gt: r.gt[g] }] : [])),
    );
  const fitEven = fitBoxCalibration(pairsOf(0));
  const fitOdd = fitBoxCalibration(pairsOf(1));
  const all = fitBoxCalibration(pairsOf('all'));

  let faces = 0;
  let detections = 0;
  const hits = { iou50: 0, iou30: 0, tolerant: 0, calibratedIou50: 0 };
  let iouRaw = 0;
  let iouCal = 0;
  const errors: number[] = [];
  results.forEach((r, i) => {
    faces += r.gt.filter((_, g) => include(i, g)).length;
    detections += r.detections.length;
    const boxes = r.detections.map((d) => d.box);
    const count = (m: number[]) => m.filter((j, g) => j >= 0 && include(i, g)).length;
    hits.iou50 += count(matchBoxes(r.gt, boxes, byIou(0.5)));
    hits.iou30 += count(matchBoxes(r.gt, boxes, byIou(0.3)));
    hits.tolerant += count(tolerant[i]);
    const cal = i % 2 === 0 ? fitOdd : fitEven; // held out: fitted on the other half
    const calibrated = boxes.map((b) => applyBoxCalibration(b, cal));
    hits.calibratedIou50 += count(matchBoxes(r.gt, calibrated, byIou(0.5)));
    tolerant[i].forEach((j, g) => {
      if (j < 0 || !include(i, g)) return;
      iouRaw += iou(r.gt[g], boxes[j]);
      iouCal += iou(r.gt[g], calibrated[j]);
      const pts = r.landmarks[g];
      if (pts && pts.length === 68) errors.push(nme(pts, truth[i].faces[g]));
    });
  });
  const frac = (n: number) => (faces ? n / faces : 0);
  return {
    label,
    images: results.length,
    faces,
    detections,
    recall: {
      iou50: frac(hits.iou50),
      iou30: frac(hits.iou30),
      tolerant: frac(hits.tolerant),
      calibratedIou50: frac(hits.calibratedIou50),
    },
    calibration: { fitEven, fitOdd, all },
    meanIou: {
      raw: hits.tolerant ? iouRaw / hits.tolerant : 0,
      calibrated: hits.tolerant ? iouCal / hits.tolerant : 0,
    },
    nme: {
      faces: errors.length,
      mean: errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : Number.NaN,
      median: errors.length ? medianOf(errors) : Number.NaN,
      under008: errors.length ? errors.filter((e) => e < 0.08).length / errors.length : 0,
      under010: errors.length ? errors.filter((e) => e < 0.1).length / errors.length : 0,
    },
    detectMsMedian: medianOf(results.map((r) => r.detectMs)),
    landmarkMsPerFaceMedian: landmarkMsPerFace(results),
  };
}

function landmarkMsPerFace(results: readonly AfwImageResult[]): number {
  const perFace = results.flatMap((r) => {
    const n = r.landmarks.filter((p) => p !== null).length;
    return n > 0 && r.landmarkMs !== undefined ? [r.landmarkMs / n] : [];
  });
  return perFace.length ? medianOf(perFace) : Number.NaN;
}
