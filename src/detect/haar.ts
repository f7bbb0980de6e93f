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
import { resizeGrayLinearExact, rgbToGray, toRgb } from '../image/ops.js';
import type { Box, Detection, GrayImage, RgbImage } from '../types.js';
import type { HaarCascade } from './haar-cascade.js';

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

export const HAAR_DEFAULTS = { scaleFactor: 1.1, minNeighbors: 4, minFaceSize: 30 } as const;
/** eps of OpenCV's groupRectangles as detectMultiScale calls it. */
export const HAAR_GROUP_EPS = 0.2;

/** OpenCV's cvRound: round half to even (lrint). */
function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

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

/**
 * Integral image (Σp, Int32) and squared integral (Σp², Float64: exact) with row stride `stride` ≥ w + 1.
 * Like OpenCV's CV_32S sums, Σp wraps mod 2³² on images over 8.4 Mpx; every rectangle sum is read
 * back as `(a − b − c + d) | 0`, which is exact because a window's true sum fits in an int32.
 */
function integrate(img: Uint8Array, w: number, h: number, stride: number, sum: Int32Array, sq: Float64Array): void {
  for (let x = 0; x <= w; x++) {
    sum[x] = 0;
    sq[x] = 0;
  }
  for (let y = 0; y < h; y++) {
    const src = y * w;
    const prev = y * stride;
    const row = prev + stride;
    sum[row] = 0;
    sq[row] = 0;
    let s = 0;
    let s2 = 0;
    for (let x = 0; x < w; x++) {
      const p = img[src + x];
      s += p;
      s2 += p * p;
      sum[row + x + 1] = sum[prev + x + 1] + s;
      sq[row + x + 1] = sq[prev + x + 1] + s2;
    }
  }
}

/** Per-stride precomputed rect offsets (OpenCV's OptFeature): 3 rects × 4 corners each. */
interface Offsets {
  stride: number;
  /** Per stump (stumpsOnly) or per feature: 12 integral-image offsets. */
  ofs: Int32Array;
  /** The 4 corners of the normalisation rect (1, 1, w-2, h-2). */
  norm: Int32Array;
}

function computeOffsets(c: HaarCascade, stride: number): Offsets {
  const rectOfs = (out: Int32Array, o: number, x: number, y: number, w: number, h: number) => {
    out[o] = y * stride + x;
    out[o + 1] = y * stride + x + w;
    out[o + 2] = (y + h) * stride + x;
    out[o + 3] = (y + h) * stride + x + w;
  };
  const nFeatures = c.featureWeights.length / 3;
  const featOfs = new Int32Array(nFeatures * 12);
  for (let f = 0; f < nFeatures; f++) {
    for (let r = 0; r < 3; r++) {
      const k = f * 12 + r * 4;
      rectOfs(featOfs, k, c.featureRects[k], c.featureRects[k + 1], c.featureRects[k + 2], c.featureRects[k + 3]);
    }
  }
  let ofs = featOfs;
  if (c.stumpsOnly) {
    // Copy each stump's feature offsets next to it: one less indirection in the hot loop.
    const nNodes = c.nodeFeature.length;
    ofs = new Int32Array(nNodes * 12);
    for (let i = 0; i < nNodes; i++)
      ofs.set(featOfs.subarray(c.nodeFeature[i] * 12, c.nodeFeature[i] * 12 + 12), i * 12);
  }
  const norm = new Int32Array(4);
  rectOfs(norm, 0, 1, 1, c.width - 2, c.height - 2);
  return { stride, ofs, norm };
}

/**
 * Stump tables in the hot loop's layout: per stump, 8 doubles (weights of the 3 rects, threshold,
 * the two leaves, 2 pad) next to its 12 integral-image offsets (in Offsets.ofs).
 */
function stumpTable(c: HaarCascade): Float64Array {
  const n = c.nodeFeature.length;
  const t = new Float64Array(n * 8);
  for (let i = 0; i < n; i++) {
    const f = c.nodeFeature[i];
    t[i * 8] = c.featureWeights[f * 3];
    t[i * 8 + 1] = c.featureWeights[f * 3 + 1];
    t[i * 8 + 2] = c.featureWeights[f * 3 + 2];
    t[i * 8 + 3] = c.nodeThreshold[i];
    // Stump i is tree i: node "0 -1 f t" → leaf 0 when value < t, else leaf 1.
    const leaf0 = c.treeFirstLeaf[i];
    t[i * 8 + 4] = c.leaves[leaf0 - Math.min(0, c.nodeLeft[i])];
    t[i * 8 + 5] = c.leaves[leaf0 - Math.min(0, c.nodeRight[i])];
  }
  return t;
}

/** A level's geometry for the scanners. */
interface Level {
  scale: number;
  /** Window step in level pixels: 2 for scales < 2, else 1 (OpenCV's yStep). */
  step: number;
  /** The window's size in image pixels. */
  winW: number;
  winH: number;
  /** Window origins x < xEnd, y < yEnd: OpenCV's working size; setWindow needs x + 24 < levelW + 1. */
  xEnd: number;
  yEnd: number;
  /** Pixels in the normalisation rect (1, 1, w-2, h-2). */
  area: number;
}

function levelGeometry(c: HaarCascade, w: number, h: number, scale: number): Level {
  return {
    scale,
    step: scale >= 2 ? 1 : 2,
    winW: cvRound(Math.fround(c.width * scale)),
    winH: cvRound(Math.fround(c.height * scale)),
    xEnd: w + 1 - c.width,
    yEnd: h + 1 - c.height,
    area: (c.width - 2) * (c.height - 2),
  };
}

/**
 * The float 1/nf that scales the window's feature values, nf = area·σ over the normalisation rect
 * (corner offsets `norm`) of the window at integral offset p; 0 when OpenCV (HaarEvaluator::setWindow)
 * rejects the window: unless nf > 0 and area / nf < 0.1 (σ > 10 grey levels).
 */
function windowScale(sum: Int32Array, sq: Float64Array, norm: Int32Array, p: number, area: number): number {
  const s = (sum[p + norm[0]] - sum[p + norm[1]] - sum[p + norm[2]] + sum[p + norm[3]]) | 0;
  const s2 = sq[p + norm[0]] - sq[p + norm[1]] - sq[p + norm[2]] + sq[p + norm[3]];
  const nf = Math.sqrt(area * s2 - s * s);
  if (!(nf > 0)) return 0;
  const vnf = Math.fround(1 / nf);
  return area * vnf < 0.1 ? vnf : 0;
}

/**
 * How many stages of the cascade the window at integral offset p passes (all of them: accepted), its
 * feature values scaled by vnf (windowScale), with early rejection at the first stage whose sum is
 * below its threshold. `ofs` holds the features' (or stumps') 12 corner offsets (Offsets.ofs).
 */
type StagesPassed = (ofs: Int32Array, sum: Int32Array, p: number, vnf: number) => number;

/**
 * Slide the window over one pyramid level (integral images with stride offs.stride) as OpenCV steps
 * it, pushing accepted windows, mapped to image pixels, onto `out` as x, y, w, h.
 */
function scanLevel(
  stagesPassed: StagesPassed,
  nStages: number,
  offs: Offsets,
  sum: Int32Array,
  sq: Float64Array,
  level: Level,
  out: number[],
): void {
  const { stride, norm, ofs } = offs;
  const { scale, step, winW, winH, xEnd, yEnd, area } = level;
  for (let y = 0; y < yEnd; y += step) {
    const rowBase = y * stride;
    for (let x = 0; x < xEnd; x += step) {
      const p = rowBase + x;
      const vnf = windowScale(sum, sq, norm, p, area);
      if (vnf === 0) continue;
      const si = stagesPassed(ofs, sum, p, vnf);
      if (si === nStages) out.push(cvRound(x * scale), cvRound(y * scale), winW, winH);
      else if (si === 0) x += step; // OpenCV: a window rejected by stage 0 skips its neighbour
    }
  }
}

/** The stage evaluation of a stump-only cascade: the flat fast path over its stumpTable. */
function stumpStages(c: HaarCascade, table: Float64Array): StagesPassed {
  const nStages = c.stageThreshold.length;
  const stageThr = c.stageThreshold;
  const stageCount = c.stageTreeCount;
  return (ofs, sum, p, vnf) => {
    let si = 0;
    let o = 0; // into ofs, 12 per stump
    let t = 0; // into table, 8 per stump
    for (; si < nStages; si++) {
      let acc = 0;
      const end = t + stageCount[si] * 8;
      for (; t < end; t += 8, o += 12) {
        const r0 = (sum[p + ofs[o]] - sum[p + ofs[o + 1]] - sum[p + ofs[o + 2]] + sum[p + ofs[o + 3]]) | 0;
        const r1 = (sum[p + ofs[o + 4]] - sum[p + ofs[o + 5]] - sum[p + ofs[o + 6]] + sum[p + ofs[o + 7]]) | 0;
        let v = table[t] * r0 + table[t + 1] * r1;
        const w2 = table[t + 2];
        if (w2 !== 0)
          v += w2 * ((sum[p + ofs[o + 8]] - sum[p + ofs[o + 9]] - sum[p + ofs[o + 10]] + sum[p + ofs[o + 11]]) | 0);
        acc += Math.fround(v * vnf) < table[t + 3] ? table[t + 4] : table[t + 5]; // float, as OpenCV
      }
      if (acc < stageThr[si]) break;
    }
    return si;
  };
}

/** The stage evaluation of cascades with deeper trees (e.g. haarcascade_frontalface_alt2.xml). */
function treeStages(c: HaarCascade): StagesPassed {
  const nStages = c.stageThreshold.length;
  const { stageThreshold, stageFirstTree, stageTreeCount, treeFirstNode, treeFirstLeaf } = c;
  const { nodeFeature, nodeThreshold, nodeLeft, nodeRight, leaves, featureWeights } = c;
  return (ofs, sum, p, vnf) => {
    let si = 0;
    for (; si < nStages; si++) {
      let acc = 0;
      const end = stageFirstTree[si] + stageTreeCount[si];
      for (let t = stageFirstTree[si]; t < end; t++) {
        const base = treeFirstNode[t];
        let idx = 0;
        do {
          const nd = base + idx;
          const f = nodeFeature[nd];
          const o = f * 12;
          let v =
            featureWeights[f * 3] *
              ((sum[p + ofs[o]] - sum[p + ofs[o + 1]] - sum[p + ofs[o + 2]] + sum[p + ofs[o + 3]]) | 0) +
            featureWeights[f * 3 + 1] *
              ((sum[p + ofs[o + 4]] - sum[p + ofs[o + 5]] - sum[p + ofs[o + 6]] + sum[p + ofs[o + 7]]) | 0);
          const w2 = featureWeights[f * 3 + 2];
          if (w2 !== 0)
            v += w2 * ((sum[p + ofs[o + 8]] - sum[p + ofs[o + 9]] - sum[p + ofs[o + 10]] + sum[p + ofs[o + 11]]) | 0);
          idx = Math.fround(v * vnf) < nodeThreshold[nd] ? nodeLeft[nd] : nodeRight[nd];
        } while (idx > 0);
        acc += leaves[treeFirstLeaf[t] - idx];
      }
      if (acc < stageThreshold[si]) break;
    }
    return si;
  };
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
