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
 *      · IoU ≥ 0.5 (the issue's criterion, raw detector boxes);
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
 *  - Head pose: every GT face is binned by the yaw fitted to its annotated points (frontal,
 *    15–45°, > 45°; src/eval/head-pose.ts) and recall and NME are also reported per bin.
 *  - Landmark NME: for every GT face with a tolerant match, the landmark model runs on the
 *    detection's raw box (what the pipeline does); NME = mean point-to-point error over the 68
 *    points / distance between the GT outer eye corners (points 36 and 45).
 *
 * Pure Node: decodes with sharp (src/node/decode.ts), runs the analyzer's stages
 * (src/node/stages.ts) on onnxruntime-node (src/node/runtime.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureSsdModel } from '../convert/main.js';
import { BLAZEFACE_DEFAULT_SCORE_THRESHOLD } from '../detect/blazeface.js';
import {
  createSsdDetector,
  SSD_DEFAULT_INPUT_SIZE,
  SSD_DEFAULT_PRECISION,
  type SsdPrecision,
  ssdDefaultScoreThreshold,
} from '../detect/ssd.js';
import type { DetectOptions, FaceDetector } from '../detect/types.js';
import { pointsBox } from '../image/ops.js';
import type { LandmarkModel } from '../landmarks/types.js';
import { decodeImage } from '../node/decode.js';
import { createDlibHogDetector } from '../node/dlib-hog.js';
import { createDlibLandmarks, loadDlibShapePredictor } from '../node/dlib-shape.js';
import { nodeRuntime } from '../node/runtime.js';
import { createFaceDetector, createLandmarks, DEFAULT_LANDMARK_KIND, type LandmarkKind } from '../node/stages.js';
import type { Point } from '../types.js';
import { type AfwDetectorSummary, type AfwImageResult, byTolerance, matchBoxes, summarizeAfw } from './afw-metrics.js';
import { type AfwPoseReport, afwFacePoses, afwPoseReport } from './afw-pose.js';
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
// Running the stages

export interface AfwDetectorSpec {
  /**
   * 'cnn' = SSD MobileNetV1 at `inputSize`; 'blazeface' = MediaPipe's BlazeFace; 'haar' = the OpenCV
   * frontal-face cascade; 'dlib' = dlib's HOG detector.
   */
  kind: 'cnn' | 'blazeface' | 'haar' | 'dlib';
  /** dlib only: times the photo is upsampled before detecting (default 1, as dlib's `detector(img, 1)`). */
  upsample?: number;
  /** SSD input size (cnn only); default SSD_DEFAULT_INPUT_SIZE. */
  inputSize?: number;
  /** SSD build (cnn only): 'int8' or 'float'; default SSD_DEFAULT_PRECISION. */
  precision?: SsdPrecision;
  /** Detection options (cnn default: the SSD defaults, score > 0.5). */
  detectOptions?: DetectOptions;
  /** The 68-point model run on this detector's boxes (default 'ferkit'; 'dlib' gets the boxes mapped to dlib's convention). */
  landmarks?: LandmarkKind;
  /** Table label; default `cnn@<size> score>X` / `haar` / `dlib up1`, plus ` + <kind> landmarks` unless ferkit's. */
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
  /** Recall and NME per head-pose bin (yaw from the GT points; src/eval/afw-pose.ts). */
  pose?: AfwPoseReport;
  /** Per-detector per-photo results (for --json). */
  results?: Record<string, AfwImageResult[]>;
}

/** `cnn@<size> <precision> score>X` (X: the given or the size's default threshold) or `haar`, unless spec.label. */
export function detectorLabel(spec: AfwDetectorSpec): string {
  if (spec.label) return spec.label;
  const kind = spec.landmarks ?? DEFAULT_LANDMARK_KIND;
  const landmarks = kind === DEFAULT_LANDMARK_KIND ? '' : ` + ${kind} landmarks`;
  if (spec.kind === 'haar') return `haar${landmarks}`;
  if (spec.kind === 'blazeface')
    return `blazeface score>${spec.detectOptions?.scoreThreshold ?? BLAZEFACE_DEFAULT_SCORE_THRESHOLD}${landmarks}`;
  if (spec.kind === 'dlib') return `dlib up${spec.upsample ?? 1}${landmarks}`;
  const size = spec.inputSize ?? SSD_DEFAULT_INPUT_SIZE;
  const precision = spec.precision ?? SSD_DEFAULT_PRECISION;
  return `cnn@${size} ${precision} score>${spec.detectOptions?.scoreThreshold ?? ssdDefaultScoreThreshold(size)}${landmarks}`;
}

async function openDetector(spec: AfwDetectorSpec, threads: number): Promise<FaceDetector> {
  if (spec.kind === 'haar' || spec.kind === 'blazeface') return createFaceDetector(spec.kind, nodeRuntime, { threads });
  if (spec.kind === 'dlib') return createDlibHogDetector({ upsample: spec.upsample ?? 1 });
  const files = await ensureSsdModel(spec.inputSize ?? SSD_DEFAULT_INPUT_SIZE, spec.precision ?? SSD_DEFAULT_PRECISION);
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
  // Before any model runs, so that a face whose points cannot be fitted fails fast.
  const poses = afwFacePoses(truth);
  const labels = options.detectors.map(detectorLabel);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw new Error(`AFW: detector label ${dup} given twice`);
  const detectors: FaceDetector[] = [];
  const landmarkModels: (LandmarkModel | null)[] = [];
  const networks = new Map<LandmarkKind, LandmarkModel>();
  const results: AfwImageResult[][] = options.detectors.map(() => []);
  try {
    for (const spec of options.detectors) detectors.push(await openDetector(spec, threads));
    if (options.landmarks !== false) {
      // One network per landmark kind serves every detector; dlib's predictor is loaded once (~100 MB)
      // and wrapped per detector, so each maps its own boxes to dlib's convention.
      for (const spec of options.detectors) {
        const kind = spec.landmarks ?? DEFAULT_LANDMARK_KIND;
        if (kind !== 'dlib' && !networks.has(kind))
          networks.set(kind, await createLandmarks(nodeRuntime, { threads }, kind));
      }
      const dlibModel = options.detectors.some((s) => s.landmarks === 'dlib') ? await loadDlibShapePredictor() : null;
      for (const spec of options.detectors) {
        const kind = spec.landmarks ?? DEFAULT_LANDMARK_KIND;
        landmarkModels.push(
          kind === 'dlib' && dlibModel
            ? await createDlibLandmarks({ model: dlibModel, boxes: spec.kind })
            : (networks.get(kind) ?? null),
        );
      }
    }
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
        const landmarkModel = landmarkModels[d] ?? null;
        const t1 = performance.now();
        const points = landmarkModel && boxes.length ? await landmarkModel.detect(image, boxes) : [];
        const landmarkMs = performance.now() - t1;
        let k = 0;
        const landmarks = match.map((j) => (j >= 0 && landmarkModel ? (points[k++] ?? null) : null));
        results[d].push({ file: t.file, gt: gts[i], detections, landmarks, detectMs, landmarkMs });
      }
      if ((i + 1) % 25 === 0) options.log?.(`AFW: ${i + 1}/${truth.length} photos`);
    }
  } finally {
    for (const d of detectors) await d.dispose();
    for (const m of new Set([...networks.values(), ...landmarkModels])) await m?.dispose();
  }
  const summaries = labels.map((label, d) => summarizeAfw(label, results[d], truth));
  for (const s of summaries) {
    options.log?.(
      `${s.label}: recall IoU≥0.5 ${(100 * s.recall.iou50).toFixed(1)}%, tolerant ${(100 * s.recall.tolerant).toFixed(1)}%, ` +
        `calibrated IoU≥0.5 ${(100 * s.recall.calibratedIou50).toFixed(1)}%`,
    );
  }
  const pose = afwPoseReport(labels, results, truth, poses);
  options.log?.(
    `AFW head pose (yaw from the annotations): ${pose.bins.map((b) => `${b.bin} ${b.faces}`).join(', ')} faces`,
  );
  return {
    dir: options.dir,
    images: truth.length,
    faces: gts.reduce((n, g) => n + g.length, 0),
    summaries,
    pose,
    results: Object.fromEntries(labels.map((l, d) => [l, results[d]])),
  };
}
