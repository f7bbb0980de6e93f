/**
 * Face detection recall and 68-point landmark error on AFW (Annotated Faces in the Wild) with the
 * 300-W 68-point annotations: ../shared/data/afw/ (see ../shared/data/README.md): 185 photos,
 * 337 annotated faces, landmarks68.json = { "<file>.jpg": { width, height, faces: [[[x, y] × 68], …] } }
 * in 0-based pixel coordinates, iBUG order.
 *
 * Ground truth and matching (the math is exported for the unit tests):
 *  - GT box of a face = the axis-aligned bounding box of its 68 points (jaw line to brows: no
 *    forehead). SSD boxes (WIDERFACE convention) include the forehead and are taller, so their IoU
 *    with these boxes is modest even for a perfect detection; hence three criteria:
 *      · IoU ≥ 0.5 (the criterion, raw detector boxes);
 *      · IoU ≥ 0.3;
 *      · tolerant: the GT box centre lies inside the detection and width and height agree within 2×;
 *      · IoU ≥ 0.5 after a fixed per-detector box calibration (below), fitted on the other half.
 *    Each criterion pairs GT faces and detections one-to-one, greedily by IoU (best first). AFW
 *    photos contain unannotated faces, so only recall is meaningful, never precision.
 *  - Calibration: a 4-parameter affine map from detector boxes to landmark boxes in box-relative
 *    units: cx' = cx + ox·w, cy' = cy + oy·h, w' = sw·w, h' = sh·h, each parameter the median over
 *    tolerant-matched (GT, detection) pairs. Fitted by 2-fold cross-fitting: photos are split by
 *    index parity; the map fitted on one half is applied to the other, so every reported face is
 *    held out from its own calibration.
 *  - Landmark NME: for every GT face with a tolerant match, the landmark model runs on the
 *    detection's raw box (what the pipeline does); NME = mean point-to-point error over the 68
 *    points / distance between the GT outer eye corners (points 36 and 45).
 *
 * Pure Node: decodes with sharp (src/image/decode-node.ts), runs the analyzer's stages
 * (src/node/stages.ts) on onnxruntime-node (src/runtime/node.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureFaceApiModels } from '../convert/main.js';
import { createSsdDetector, SSD_DEFAULT_INPUT_SIZE, ssdDefaultScoreThreshold } from '../detect/ssd.js';
import type { DetectOptions, FaceDetector } from '../detect/types.js';
import { decodeImage } from '../image/decode-node.js';
import { iou, pointsBox } from '../image/ops.js';
import type { LandmarkModel } from '../landmarks/types.js';
import { createDlibHogDetector } from '../node/dlib-hog.js';
import { createFaceDetector, createLandmarks } from '../node/stages.js';
import { nodeRuntime } from '../runtime/node.js';
import type { Box, Detection, Point } from '../types.js';

// ---------------------------------------------------------------------------------------------
// Data

export interface AfwImage {
  file: string;
  width: number;
  height: number;
  /** 68 [x, y] points per annotated face. */
  faces: Point[][];
}

/** The AFW folder: --data, else $FERKIT_DATA/afw, else ../shared/data/afw (relative to the cwd). */
export function defaultAfwDir(): string {
  const env = process.env.FERKIT_DATA;
  return env ? resolve(env, 'afw') : resolve('../shared/data/afw');
}

/** True when `dir` holds landmarks68.json. */
export async function afwAvailable(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'landmarks68.json'))).isFile();
  } catch {
    return false;
  }
}

/** Reads landmarks68.json; photos in the file's order, the first `limit` of them. */
export async function loadAfwAnnotations(dir: string, limit?: number): Promise<AfwImage[]> {
  const raw = JSON.parse(await readFile(join(dir, 'landmarks68.json'), 'utf8')) as Record<
    string,
    { width: number; height: number; faces: number[][][] }
  >;
  const images: AfwImage[] = [];
  for (const [file, e] of Object.entries(raw)) {
    const faces = e.faces.map((f, k) => {
      if (f.length !== 68) throw new Error(`${file}: face ${k} has ${f.length} points, expected 68`);
      return f.map(([x, y]) => [x, y] as Point);
    });
    images.push({ file, width: e.width, height: e.height, faces });
  }
  return limit !== undefined ? images.slice(0, limit) : images;
}

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
export interface BoxCalibration {
  /** Centre shift as a fraction of the detection's width / height. */
  ox: number;
  oy: number;
  /** Size factors. */
  sw: number;
  sh: number;
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

export function applyBoxCalibration(box: Box, c: BoxCalibration): Box {
  const cx = box.x + box.width / 2 + c.ox * box.width;
  const cy = box.y + box.height / 2 + c.oy * box.height;
  const width = box.width * c.sw;
  const height = box.height * c.sh;
  return { x: cx - width / 2, y: cy - height / 2, width, height };
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
}

/** Every metric of one detector from its per-photo results (photos in AFW order: index parity = fold). */
export function summarizeAfw(
  label: string,
  results: readonly AfwImageResult[],
  truth: readonly AfwImage[],
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
    faces += r.gt.length;
    detections += r.detections.length;
    const boxes = r.detections.map((d) => d.box);
    const count = (m: number[]) => m.filter((j) => j >= 0).length;
    hits.iou50 += count(matchBoxes(r.gt, boxes, byIou(0.5)));
    hits.iou30 += count(matchBoxes(r.gt, boxes, byIou(0.3)));
    hits.tolerant += count(tolerant[i]);
    const cal = i % 2 === 0 ? fitOdd : fitEven; // held out: fitted on the other half
    const calibrated = boxes.map((b) => applyBoxCalibration(b, cal));
    hits.calibratedIou50 += count(matchBoxes(r.gt, calibrated, byIou(0.5)));
    tolerant[i].forEach((j, g) => {
      if (j < 0) return;
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
  };
}

// ---------------------------------------------------------------------------------------------
// Running the stages

export interface AfwDetectorSpec {
  /** 'cnn' = SSD MobileNetV1 at `inputSize`; 'haar' = the OpenCV frontal-face cascade; 'dlib' = dlib's HOG detector. */
  kind: 'cnn' | 'haar' | 'dlib';
  /** dlib only: times the photo is upsampled before detecting (default 1, as dlib's `detector(img, 1)`). */
  upsample?: number;
  /** SSD input size (cnn only); default SSD_DEFAULT_INPUT_SIZE. */
  inputSize?: number;
  /** Detection options (cnn default: the SSD defaults, score > 0.5). */
  detectOptions?: DetectOptions;
  /** Table label; default `cnn@<size> score>X` / `haar`. */
  label?: string;
}

export interface AfwRunOptions {
  /** The AFW folder (landmarks68.json + the photos). */
  dir: string;
  detectors: readonly AfwDetectorSpec[];
  /** Only the first N photos. */
  limit?: number;
  /** Intra-op threads per session (default 1, for steadier timings). */
  threads?: number;
  /** Also run the landmark model and report NME (default true). */
  landmarks?: boolean;
  /** Progress lines. */
  log?: (message: string) => void;
}

export interface AfwReport {
  dir: string;
  images: number;
  faces: number;
  summaries: AfwDetectorSummary[];
  /** Per-detector per-photo results (for --json). */
  results?: Record<string, AfwImageResult[]>;
}

/** `cnn@<size> score>X` (X: the given or the size's default threshold) or `haar`, unless spec.label. */
export function detectorLabel(spec: AfwDetectorSpec): string {
  if (spec.label) return spec.label;
  if (spec.kind === 'haar') return 'haar';
  if (spec.kind === 'dlib') return `dlib up${spec.upsample ?? 1}`;
  const size = spec.inputSize ?? SSD_DEFAULT_INPUT_SIZE;
  return `cnn@${size} score>${spec.detectOptions?.scoreThreshold ?? ssdDefaultScoreThreshold(size)}`;
}

async function openDetector(spec: AfwDetectorSpec, threads: number): Promise<FaceDetector> {
  if (spec.kind === 'haar') return createFaceDetector('haar', nodeRuntime, { threads });
  if (spec.kind === 'dlib') return createDlibHogDetector({ upsample: spec.upsample ?? 1 });
  const size = spec.inputSize ?? SSD_DEFAULT_INPUT_SIZE;
  if (size === SSD_DEFAULT_INPUT_SIZE) return createFaceDetector('cnn', nodeRuntime, { threads });
  const paths = await ensureFaceApiModels(undefined, { ssdSizes: [size] });
  const files = paths.ssdBySize[size];
  return createSsdDetector(nodeRuntime, { model: await readFile(files.model), source: files.model, threads });
}

/**
 * Runs every detector (and the landmark model on its tolerant matches) over AFW and scores them.
 * Photos are decoded one at a time and every detector runs on each in turn, so timings of the
 * detectors interleave (fairer under a fluctuating machine load).
 */
export async function runAfwEvaluation(options: AfwRunOptions): Promise<AfwReport> {
  const threads = options.threads ?? 1;
  const truth = await loadAfwAnnotations(options.dir, options.limit);
  const gts = truth.map((t) => t.faces.map(pointsBox));
  const labels = options.detectors.map(detectorLabel);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw new Error(`AFW: detector label ${dup} given twice`);
  const detectors: FaceDetector[] = [];
  let landmarkModel: LandmarkModel | null = null;
  const results: AfwImageResult[][] = options.detectors.map(() => []);
  try {
    for (const spec of options.detectors) detectors.push(await openDetector(spec, threads));
    if (options.landmarks !== false) landmarkModel = await createLandmarks(nodeRuntime, { threads });
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      const image = await decodeImage(join(options.dir, t.file));
      if (image.width !== t.width || image.height !== t.height) {
        throw new Error(`${t.file}: decoded ${image.width}x${image.height}, annotations say ${t.width}x${t.height}`);
      }
      for (let d = 0; d < detectors.length; d++) {
        const spec = options.detectors[d];
        // One untimed warm-up on the first photo so its time is not session start-up.
        if (i === 0) await detectors[d].detect(image, spec.detectOptions);
        const t0 = performance.now();
        const detections = await detectors[d].detect(image, spec.detectOptions);
        const detectMs = performance.now() - t0;
        const match = matchBoxes(
          gts[i],
          detections.map((x) => x.box),
          byTolerance(),
        );
        const boxes = match.flatMap((j) => (j >= 0 ? [detections[j].box] : []));
        const points = landmarkModel && boxes.length ? await landmarkModel.detect(image, boxes) : [];
        let k = 0;
        const landmarks = match.map((j) => (j >= 0 && landmarkModel ? (points[k++] ?? null) : null));
        results[d].push({ file: t.file, gt: gts[i], detections, landmarks, detectMs });
      }
      if ((i + 1) % 25 === 0) options.log?.(`AFW: ${i + 1}/${truth.length} photos`);
    }
  } finally {
    for (const d of detectors) await d.dispose();
    await landmarkModel?.dispose();
  }
  const summaries = labels.map((label, d) => summarizeAfw(label, results[d], truth));
  for (const s of summaries) {
    options.log?.(
      `${s.label}: recall IoU≥0.5 ${(100 * s.recall.iou50).toFixed(1)}%, tolerant ${(100 * s.recall.tolerant).toFixed(1)}%, ` +
        `calibrated IoU≥0.5 ${(100 * s.recall.calibratedIou50).toFixed(1)}%`,
    );
  }
  return {
    dir: options.dir,
    images: truth.length,
    faces: gts.reduce((n, g) => n + g.length, 0),
    summaries,
    results: Object.fromEntries(labels.map((l, d) => [l, results[d]])),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** The report as Markdown: a recall table, an NME table, the calibrations, and the conventions. */
export function formatAfwMarkdown(report: AfwReport): string {
  const lines: string[] = [];
  lines.push(`# AFW: detection recall and 68-point landmark error`, '');
  lines.push(`${report.images} photos, ${report.faces} annotated faces (${report.dir}).`, '');
  lines.push(
    '| detector | faces | detections | recall IoU≥0.5 | recall IoU≥0.3 | recall tolerant | recall IoU≥0.5, calibrated (held-out) | mean IoU raw → calibrated | median ms/photo |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of report.summaries) {
    lines.push(
      `| ${s.label} | ${s.faces} | ${s.detections} | ${pct(s.recall.iou50)} | ${pct(s.recall.iou30)} | ${pct(s.recall.tolerant)} | ${pct(s.recall.calibratedIou50)} | ${num(s.meanIou.raw, 2)} → ${num(s.meanIou.calibrated, 2)} | ${num(s.detectMsMedian, 1)} |`,
    );
  }
  lines.push(
    '',
    '| detector | landmark faces | mean NME | median NME | NME < 0.08 | NME < 0.10 |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const s of report.summaries) {
    lines.push(
      `| ${s.label} | ${s.nme.faces} | ${num(s.nme.mean, 4)} | ${num(s.nme.median, 4)} | ${pct(s.nme.under008)} | ${pct(s.nme.under010)} |`,
    );
  }
  lines.push('', 'Box calibration (detector box → landmark box; fitted on all photos, for reference):', '');
  lines.push('| detector | centre shift x, y (× box w, h) | size factor w, h | pairs |', '|---|---|---|---:|');
  for (const s of report.summaries) {
    const c = s.calibration.all;
    lines.push(`| ${s.label} | ${num(c.ox)}, ${num(c.oy)} | ${num(c.sw)}, ${num(c.sh)} | ${c.pairs} |`);
  }
  lines.push(
    '',
    'Conventions: the GT box of a face is the bounding box of its 68 annotated points (no forehead), so raw IoU',
    'understates detectors whose boxes include the forehead (SSD). "Tolerant": the GT box centre lies inside the',
    'detection and width and height agree within 2×. "Calibrated": detector boxes mapped by a fixed 4-parameter',
    'affine box transform (centre shift, size factors; medians over tolerant pairs) fitted on the other half of the',
    'photos (2-fold by index parity), then IoU ≥ 0.5. Matching is one-to-one, greedy by IoU. Recall only: AFW',
    'photos contain unannotated faces. NME: landmark model run on the raw detection box of each tolerant match;',
    'mean point error over 68 points divided by the GT outer-eye-corner distance (points 36–45).',
  );
  return `${lines.join('\n')}\n`;
}
