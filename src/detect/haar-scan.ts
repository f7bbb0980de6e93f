/** The Haar cascade's window scan, as OpenCV evaluates it: integral images, per-scale geometry, stump and tree stages. */

import type { HaarCascade } from './haar-cascade.js';
import { cvRound } from './haar-group.js';

/**
 * Integral image (Σp, Int32) and squared integral (Σp², Float64: exact) with row stride `stride` ≥ w + 1.
 * Like OpenCV's CV_32S sums, Σp wraps mod 2³² on images over 8.4 Mpx; every rectangle sum is read
 * back as `(a − b − c + d) | 0`, which is exact because a window's true sum fits in an int32.
 */
export function integrate(
  img: Uint8Array,
  w: number,
  h: number,
  stride: number,
  sum: Int32Array,
  sq: Float64Array,
): void {
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
export interface Offsets {
  stride: number;
  /** Per stump (stumpsOnly) or per feature: 12 integral-image offsets. */
  ofs: Int32Array;
  /** The 4 corners of the normalisation rect (1, 1, w-2, h-2). */
  norm: Int32Array;
}

export function computeOffsets(c: HaarCascade, stride: number): Offsets {
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
export function stumpTable(c: HaarCascade): Float64Array {
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

export function levelGeometry(c: HaarCascade, w: number, h: number, scale: number): Level {
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
export function scanLevel(
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
export function stumpStages(c: HaarCascade, table: Float64Array): StagesPassed {
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
export function treeStages(c: HaarCascade): StagesPassed {
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
