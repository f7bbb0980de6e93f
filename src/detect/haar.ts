/**
 * The paper's face detector: OpenCV's Viola–Jones Haar cascade (haarcascade_frontalface_default.xml),
 * evaluated in plain TypeScript the way cv::CascadeClassifier::detectMultiScale (OpenCV 4.x) does it.
 * On face-api's six demo photos (800 px wide) its raw windows and grouped faces are identical to
 * python3-opencv 4.6's, for the default, alt and alt2 (2-node trees) frontal-face cascades.
 *
 * 1. BT.601 grey (ops.rgbToGray). (OpenCV's own cvtColor rounds differently by ±1 on some pixels.)
 * 2. Scales 1, f, f², … (f = scaleFactor, float32 like OpenCV) while the 24×24 window fits the
 *    image, keeping those whose window cvRound(24·s) lies in [minFaceSize, maxFaceSize].
 * 3. Per scale the image is shrunk to cvRound(W/s)×cvRound(H/s) with ops.resizeGrayLinearExact (a
 *    bit-exact port of OpenCV's INTER_LINEAR_EXACT, the resize CascadeClassifier uses); its integral
 *    (Int32) and squared integral (Float64, exact) images are built with one row stride for all
 *    levels, so every feature's 12 corner offsets are computed once; a fixed 24×24 window slides with
 *    a step of 2 px for s < 2 and 1 px for s ≥ 2, and a window rejected by the first stage makes the
 *    next one be skipped (OpenCV's `x += yStep`).
 * 4. Variance normalisation as HaarEvaluator::setWindow: over the window shrunk by 1 px on each side,
 *    rect (1, 1, 22, 22), nf = sqrt(area·Σp² − (Σp)²) = area·σ; the window is rejected unless nf > 0
 *    and area/nf < 0.1 (σ > 10 grey levels); each feature value Σ weight·rectSum is scaled by the
 *    float 1/nf (i.e. the node threshold is in units of the window's σ) and compared in float32.
 * 5. Stage sums with early rejection at the first stage whose sum is below its threshold (float32,
 *    minus OpenCV's 1e-5). Stump-only cascades take a flat fast path; deeper trees a generic one.
 * 6. Accepted windows, in image pixels (cvRound(x·s), cvRound(y·s), cvRound(24·s)), are grouped by
 *    OpenCV's groupRectangles(minNeighbors, eps = 0.2): partition by SimilarRects, average each
 *    cluster, drop clusters of ≤ minNeighbors windows, drop clusters inside a stronger one.
 *
 * Score: each detection carries `neighbors`, the number of raw windows in its cluster (what OpenCV's
 * detectMultiScale2 returns as numDetections), and `score = neighbors / (neighbors + 10)`: monotone
 * in `neighbors`, in (0, 1), 0.5 at 10 agreeing windows. Results are sorted by `neighbors`, best first.
 * On the demo photos true faces have 5–101 neighbours and background hits 5–24, so a score threshold
 * trades recall for precision but does not separate them.
 *
 * minNeighbors defaults to 4 (OpenCV's default is 3): on the six demo photos it drops the
 * background hits with exactly 4 neighbours and loses no face that 3 finds; 5 loses two faces.
 */
import { FerkitError } from '../errors.js';
import { rgbToGray, toRgb } from '../image/ops.js';
import { resizeGrayLinearExact } from '../image/resample-exact.js';
import type { Detection, GrayImage, RgbImage } from '../types.js';
import type { HaarCascade } from './haar-cascade.js';
import { cvRound, groupRectangles, HAAR_GROUP_EPS } from './haar-group.js';
import {
  computeOffsets,
  integrate,
  levelGeometry,
  type Offsets,
  scanLevel,
  stumpStages,
  stumpTable,
  treeStages,
} from './haar-scan.js';

export { DEFAULT_HAAR_CASCADE_PATH, type HaarCascade, parseHaarCascade } from './haar-cascade.js';

export interface HaarDetectOptions {
  /** Pyramid step, > 1. Default 1.1. */
  scaleFactor?: number;
  /** A face needs more than this many overlapping raw windows. Default 4 (OpenCV's default is 3). */
  minNeighbors?: number;
  /** Smallest face side in image pixels. Default 30. */
  minFaceSize?: number;
  /** Largest face side in image pixels. Default: no limit (the image size). */
  maxFaceSize?: number;
}

export interface HaarDetection extends Detection {
  /** Raw windows grouped into this detection (OpenCV's numDetections). */
  neighbors: number;
}

/** Pixels to search: RGB (3 bytes/pixel), grey (1) or RGBA (4), told apart by the buffer length. */
export type HaarInput =
  | RgbImage
  | GrayImage
  | { readonly width: number; readonly height: number; readonly data: Uint8Array };

export interface HaarDetector {
  readonly cascade: HaarCascade;
  /** The defaults this detector was created with. */
  readonly options: Readonly<Required<Omit<HaarDetectOptions, 'maxFaceSize'>>> & { readonly maxFaceSize?: number };
  detect(image: HaarInput, options?: HaarDetectOptions): HaarDetection[];
  dispose(): void;
}

export { cvRound, HAAR_GROUP_EPS };

export const HAAR_DEFAULTS = { scaleFactor: 1.1, minNeighbors: 4, minFaceSize: 30 } as const;

/** Refuses bad options with FerkitError('E_INPUT'). */
export function checkHaarOptions(o: HaarDetectOptions): void {
  const bad = (msg: string): never => {
    throw new FerkitError('E_INPUT', `haar detector: ${msg}`);
  };
  if (o.scaleFactor !== undefined && !(Number.isFinite(o.scaleFactor) && o.scaleFactor > 1)) {
    bad(`scaleFactor must be > 1, got ${o.scaleFactor}`);
  }
  if (o.minNeighbors !== undefined && !(Number.isInteger(o.minNeighbors) && o.minNeighbors >= 0)) {
    bad(`minNeighbors must be an integer >= 0, got ${o.minNeighbors}`);
  }
  if (o.minFaceSize !== undefined && !(Number.isFinite(o.minFaceSize) && o.minFaceSize >= 0)) {
    bad(`minFaceSize must be >= 0, got ${o.minFaceSize}`);
  }
  if (o.maxFaceSize !== undefined && !(Number.isFinite(o.maxFaceSize) && o.maxFaceSize > 0)) {
    bad(`maxFaceSize must be > 0, got ${o.maxFaceSize}`);
  }
}

function toGray(image: HaarInput): GrayImage {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || !data) {
    throw new FerkitError('E_INPUT', `haar detector: bad image ${width}x${height}`);
  }
  const n = width * height;
  if (data.length === n) return { width, height, data };
  if (data.length === n * 3) return rgbToGray({ width, height, data });
  if (data.length === n * 4) return rgbToGray(toRgb(width, height, data, 4));
  throw new FerkitError(
    'E_INPUT',
    `haar detector: ${width}x${height} image has ${data.length} bytes, expected ${n} (grey), ${n * 3} (RGB) or ${n * 4} (RGBA)`,
  );
}

/** The neighbour count as a (0, 1) score: 0.5 at 10 agreeing raw windows. */
export function haarScore(neighbors: number): number {
  return neighbors / (neighbors + 10);
}

/** A detector over an already parsed cascade (no file access; usable in a browser). */
export function createHaarDetectorFromCascade(cascade: HaarCascade, options: HaarDetectOptions = {}): HaarDetector {
  checkHaarOptions(options);
  const defaults = {
    scaleFactor: options.scaleFactor ?? HAAR_DEFAULTS.scaleFactor,
    minNeighbors: options.minNeighbors ?? HAAR_DEFAULTS.minNeighbors,
    minFaceSize: options.minFaceSize ?? HAAR_DEFAULTS.minFaceSize,
    maxFaceSize: options.maxFaceSize,
  };
  const stagesPassed = cascade.stumpsOnly ? stumpStages(cascade, stumpTable(cascade)) : treeStages(cascade);
  const nStages = cascade.stageThreshold.length;
  // Buffers and offsets are kept between calls (video frames of one size reuse them).
  let offsets: Offsets | null = null;
  let sum = new Int32Array(0);
  let sq = new Float64Array(0);
  let levelBuf = new Uint8Array(0);
  let disposed = false;

  const detect = (image: HaarInput, callOptions: HaarDetectOptions = {}): HaarDetection[] => {
    if (disposed) throw new FerkitError('E_DISPOSED', 'haar detector: detect() after dispose()');
    checkHaarOptions(callOptions);
    const scaleFactor = callOptions.scaleFactor ?? defaults.scaleFactor;
    const minNeighbors = callOptions.minNeighbors ?? defaults.minNeighbors;
    const minFace = callOptions.minFaceSize ?? defaults.minFaceSize;
    const gray = toGray(image);
    const W = gray.width;
    const H = gray.height;
    const maxFace = callOptions.maxFaceSize ?? defaults.maxFaceSize;
    const maxW = maxFace ?? W;
    const maxH = maxFace ?? H;
    const cw = cascade.width;
    const ch = cascade.height;
    if (W < cw || H < ch) return [];

    // The scales, exactly as detectMultiScaleNoGrouping lists them (float32 factors).
    const scales: number[] = [];
    for (let factor = 1; ; factor *= scaleFactor) {
      const f = Math.fround(factor);
      const ww = cvRound(Math.fround(cw * f));
      const wh = cvRound(Math.fround(ch * f));
      if (ww > W || wh > H) break;
      if (ww > maxW || wh > maxH) break;
      if (ww < minFace || wh < minFace) continue;
      scales.push(f);
    }
    if (scales.length === 0) return [];

    // One stride for every level (that of the largest), so the feature offsets are computed once.
    const stride = cvRound(Math.fround(W / scales[0])) + 1;
    const firstH = cvRound(Math.fround(H / scales[0])) + 1;
    if (offsets === null || offsets.stride !== stride) offsets = computeOffsets(cascade, stride);
    if (sum.length < stride * firstH) {
      sum = new Int32Array(stride * firstH);
      sq = new Float64Array(stride * firstH);
    }
    if (levelBuf.length < stride * firstH) levelBuf = new Uint8Array(stride * firstH);

    const raw: number[] = [];
    for (const scale of scales) {
      const lw = cvRound(Math.fround(W / scale));
      const lh = cvRound(Math.fround(H / scale));
      if (lw < cw || lh < ch) continue;
      const level = lw === W && lh === H ? gray.data : resizeGrayLinearExact(gray, lw, lh, levelBuf);
      integrate(level, lw, lh, stride, sum, sq);
      scanLevel(stagesPassed, nStages, offsets, sum, sq, levelGeometry(cascade, lw, lh, scale), raw);
    }

    const grouped = groupRectangles(raw, minNeighbors, HAAR_GROUP_EPS);
    return grouped
      .map(({ box, neighbors }) => ({ box, score: haarScore(neighbors), neighbors }))
      .sort((a, b) => b.neighbors - a.neighbors);
  };

  return {
    cascade,
    options: defaults,
    detect,
    dispose() {
      disposed = true;
      offsets = null;
      sum = new Int32Array(0);
      sq = new Float64Array(0);
      levelBuf = new Uint8Array(0);
    },
  };
}
