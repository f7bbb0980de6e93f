/**
 * dlib's fHOG features (dlib/image_transforms/fhog.h, extract_fhog_features, cell size > 1) for
 * RGB images, bit-exact with dlib built for SSE2 (the default x86-64 flags):
 *  - per pixel, the central-difference gradient of the colour channel with the largest squared
 *    magnitude; ties are broken as dlib's two code paths break them (its 8-pixel SIMD loop prefers
 *    green over red and blue over both on equal magnitude, its scalar tail for the last columns of
 *    a row prefers red, then green);
 *  - snapped to one of 18 orientations by float32 dot products with dlib's 9 unit vectors (a
 *    lookup table over all gradients), voted with bilinear weights into the 4 nearest cells'
 *    histograms, in float32 and in dlib's order of operations for each path;
 *  - per cell: 18 contrast-sensitive, 9 contrast-insensitive and 4 texture features, normalised by
 *    the 4 surrounding 2×2 blocks (Felzenszwalb et al. 2010), summed across the 4 normalisations in
 *    the order SSE2's horizontal sum does it;
 *  - written into 31 planes of (cells − 2) + filter − 1 rows and columns: a border of
 *    (filter − 1)/2 zeros on the top/left and filter/2 on the bottom/right, so that a filter can be
 *    centred on every cell.
 * Float32 arithmetic is emulated with Math.fround (exact: every product or sum of two float32
 * values is exact or correctly rounded in double before rounding to float32).
 */
import type { RgbImage } from '../../types.js';
import { orientations } from './orientation.js';
import { createVoteKernel, type VoteRow } from './vote-kernel.js';

const f = Math.fround;
export const FHOG_PLANES = 31;

/** 31 planes of height × width floats, plane p at data[p * height * width]. */
export interface FhogPlanes {
  width: number;
  height: number;
  data: Float32Array;
}

const F_EPS = f(0.0001);
const F_02 = f(0.2);
const F_01 = f(0.1);
const F_TEXTURE = f(2 * 0.2357);

/** The cell grid of a W × H image and the size of its fHOG planes (0 × 0 under 3 cells a side). */
export function fhogShape(
  W: number,
  H: number,
  cellSize: number,
  filterRows: number,
  filterCols: number,
): { cellsNr: number; cellsNc: number; width: number; height: number } {
  const cellsNr = Math.trunc(f(f(H) / f(cellSize)) + 0.5);
  const cellsNc = Math.trunc(f(f(W) / f(cellSize)) + 0.5);
  if (cellsNr <= 2 || cellsNc <= 2) return { cellsNr, cellsNc, width: 0, height: 0 };
  return { cellsNr, cellsNc, width: cellsNc - 2 + filterCols - 1, height: cellsNr - 2 + filterRows - 1 };
}

/** Reusable buffers (one extractor per detector, reused across pyramid levels and calls). */
export class FhogExtractor {
  private hist = new Float32Array(0);
  private norm = new Float32Array(0);
  private blockNn = new Float32Array(0);
  private blockN = new Float32Array(0);
  private colBin = new Int32Array(0);
  private colW0 = new Float32Array(0);
  private colW1 = new Float32Array(0);
  /** The WebAssembly vote kernel (null: the TypeScript loop below), created on first use. */
  private kernel: { memory: WebAssembly.Memory; voteRow: VoteRow } | null | undefined;

  constructor(private readonly useWasm = true) {}

  /**
   * extract_fhog_features(img, hog, cellSize, filterRows, filterCols) into `out` (grown when too
   * small); returns the planes' size (0 × 0 when the image has fewer than 3 cells a side).
   */
  extract(
    img: RgbImage,
    cellSize: number,
    filterRows: number,
    filterCols: number,
    out: { data: Float32Array },
  ): FhogPlanes {
    const {
      cellsNr,
      cellsNc,
      width: planeW,
      height: planeH,
    } = fhogShape(img.width, img.height, cellSize, filterRows, filterCols);
    if (planeW === 0) return { width: 0, height: 0, data: out.data.subarray(0, 0) };
    const hogNr = cellsNr - 2;
    const hogNc = cellsNc - 2;
    const planeSize = planeH * planeW;
    if (out.data.length < planeSize * FHOG_PLANES) out.data = new Float32Array(planeSize * FHOG_PLANES);
    const planes = out.data.subarray(0, planeSize * FHOG_PLANES);
    planes.fill(0);

    const histW = cellsNc + 2;
    const histSize = (cellsNr + 2) * histW * 18;
    if (this.kernel === undefined) this.kernel = this.useWasm ? createVoteKernel() : null;
    const hist = this.kernel
      ? this.voteWasm(this.kernel, img, cellSize, cellsNr, cellsNc, histW, histSize)
      : this.voteTs(img, cellSize, cellsNr, cellsNc, histW, histSize);

    // Energy per cell: Σ over the 9 undirected orientations of (h[o] + h[o + 9])².
    if (this.norm.length < cellsNr * cellsNc) this.norm = new Float32Array(cellsNr * cellsNc);
    const norm = this.norm;
    for (let r = 0; r < cellsNr; r++) {
      for (let c = 0; c < cellsNc; c++) {
        const h = ((r + 1) * histW + c + 1) * 18;
        let n = 0;
        for (let o = 0; o < 9; o++) {
          const s = f(hist[h + o] + hist[h + o + 9]);
          n = f(n + f(s * s));
        }
        norm[r * cellsNc + c] = n;
      }
    }
    // Per 2×2 block with top-left cell (r, c): nn = 0.2·sqrt(Σ energy + eps) and n = 0.1/nn.
    const bw = cellsNc - 1;
    const nBlocks = (cellsNr - 1) * bw;
    if (this.blockNn.length < nBlocks) {
      this.blockNn = new Float32Array(nBlocks);
      this.blockN = new Float32Array(nBlocks);
    }
    const bnn = this.blockNn;
    const bn = this.blockN;
    for (let r = 0; r < cellsNr - 1; r++) {
      for (let c = 0; c < bw; c++) {
        const i = r * cellsNc + c;
        const z = f(f(f(f(norm[i] + norm[i + 1]) + norm[i + cellsNc]) + norm[i + cellsNc + 1]) + F_EPS);
        const nn = f(F_02 * f(Math.sqrt(z)));
        bnn[r * bw + c] = nn;
        bn[r * bw + c] = f(F_01 / nn);
      }
    }

    const padR = (filterRows - 1) >> 1;
    const padC = (filterCols - 1) >> 1;
    for (let y = 0; y < hogNr; y++) {
      for (let x = 0; x < hogNc; x++) {
        // The four normalisations of cell (y + 1, x + 1): blocks (y+1, x+1), (y, x+1), (y+1, x), (y, x).
        const b3 = y * bw + x;
        const b2 = b3 + bw;
        const b1 = b3 + 1;
        const b0 = b2 + 1;
        const nn0 = bnn[b0];
        const nn1 = bnn[b1];
        const nn2 = bnn[b2];
        const nn3 = bnn[b3];
        const n0 = bn[b0];
        const n1 = bn[b1];
        const n2 = bn[b2];
        const n3 = bn[b3];
        const h = ((y + 2) * histW + x + 2) * 18;
        const at = (y + padR) * planeW + x + padC;
        let t0 = 0;
        let t1 = 0;
        let t2 = 0;
        let t3 = 0;
        // Contrast-sensitive features, three orientations at a time as dlib accumulates the texture sums.
        for (let o = 0; o < 18; o += 3) {
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let k = 0; k < 3; k++) {
            const v = hist[h + o + k];
            const a0 = f(Math.min(v, nn0) * n0);
            const a1 = f(Math.min(v, nn1) * n1);
            const a2 = f(Math.min(v, nn2) * n2);
            const a3 = f(Math.min(v, nn3) * n3);
            planes[(o + k) * planeSize + at] = f(f(a0 + a2) + f(a1 + a3));
            if (k === 0) {
              s0 = a0;
              s1 = a1;
              s2 = a2;
              s3 = a3;
            } else {
              s0 = f(s0 + a0);
              s1 = f(s1 + a1);
              s2 = f(s2 + a2);
              s3 = f(s3 + a3);
            }
          }
          t0 = f(t0 + s0);
          t1 = f(t1 + s1);
          t2 = f(t2 + s2);
          t3 = f(t3 + s3);
        }
        // Contrast-insensitive features.
        for (let o = 0; o < 9; o++) {
          const v = f(hist[h + o] + hist[h + o + 9]);
          const a0 = f(Math.min(v, nn0) * n0);
          const a1 = f(Math.min(v, nn1) * n1);
          const a2 = f(Math.min(v, nn2) * n2);
          const a3 = f(Math.min(v, nn3) * n3);
          planes[(18 + o) * planeSize + at] = f(f(a0 + a2) + f(a1 + a3));
        }
        // Texture features: the contrast-sensitive energy under each normalisation.
        planes[27 * planeSize + at] = f(t0 * F_TEXTURE);
        planes[28 * planeSize + at] = f(t1 * F_TEXTURE);
        planes[29 * planeSize + at] = f(t2 * F_TEXTURE);
        planes[30 * planeSize + at] = f(t3 * F_TEXTURE);
      }
    }
    return { width: planeW, height: planeH, data: planes };
  }

  /**
   * Per column: the histogram column of the left votes (× 18) and the two horizontal weights, as
   * each of dlib's paths computes them; returns [visibleNr, visibleNc, simdEnd].
   */
  private columnTables(img: RgbImage, cellSize: number, cellsNr: number, cellsNc: number): [number, number, number] {
    const visibleNr = Math.min(cellsNr * cellSize, img.height) - 1;
    const visibleNc = Math.min(cellsNc * cellSize, img.width) - 1;
    // dlib's SIMD loop takes x = 1, 9, 17, … while x < visibleNc − 7, eight pixels at a time.
    let simdEnd = 1;
    while (simdEnd < visibleNc - 7) simdEnd += 8;
    // Per column: the histogram column of the left votes (× 18) and the two horizontal weights, as
    // each path computes them (SIMD: xp = (x + 0.5)/cell + 0.5 truncated; scalar: floor((x + 0.5)/cell − 0.5) + 1).
    const cs = f(cellSize);
    if (this.colBin.length < visibleNc) {
      this.colBin = new Int32Array(visibleNc);
      this.colW0 = new Float32Array(visibleNc);
      this.colW1 = new Float32Array(visibleNc);
    }
    const colBin = this.colBin;
    const colW0 = this.colW0;
    const colW1 = this.colW1;
    for (let x = 1; x < visibleNc; x++) {
      let bin: number;
      let vx0: number;
      if (x < simdEnd) {
        const xp = f(f(f(x + 0.5) / cs) + 0.5);
        bin = Math.trunc(xp);
        vx0 = f(xp - bin);
      } else {
        const xp = f((x + 0.5) / cellSize - 0.5);
        const ixp = Math.floor(xp);
        vx0 = f(xp - ixp);
        bin = ixp + 1;
      }
      colBin[x] = bin * 18;
      colW0[x] = vx0;
      colW1[x] = f(1 - vx0);
    }
    return [visibleNr, visibleNc, simdEnd];
  }

  /** The rows' vertical bilinear position: histogram row iyp + 1 and the weights vy0, vy1. */
  private static rowWeights(y: number, cellSize: number): [number, number, number] {
    const yp = f((y + 0.5) / cellSize - 0.5);
    const iyp = Math.floor(yp);
    const vy0 = f(yp - iyp);
    return [iyp + 1, vy0, f(1 - vy0)];
  }

  /** The votes through the WebAssembly kernel; returns the histograms (a view of its memory). */
  private voteWasm(
    k: { memory: WebAssembly.Memory; voteRow: VoteRow },
    img: RgbImage,
    cellSize: number,
    cellsNr: number,
    cellsNc: number,
    histW: number,
    histSize: number,
  ): Float32Array {
    const [visibleNr, visibleNc, simdEnd] = this.columnTables(img, cellSize, cellsNr, cellsNc);
    const lutPtr = 0;
    const colsPtr = 511 * 512;
    const imgPtr = colsPtr + ((visibleNc * 12 + 15) & ~15);
    const histPtr = imgPtr + ((img.data.length + 15) & ~15);
    const need = histPtr + histSize * 4;
    const mem = k.memory;
    const fresh = mem.buffer.byteLength < colsPtr;
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    const heap = new Uint8Array(mem.buffer);
    if (fresh) heap.set(orientations(), lutPtr);
    const ints = new Int32Array(mem.buffer, colsPtr, visibleNc * 3);
    const floats = new Float32Array(mem.buffer, colsPtr, visibleNc * 3);
    for (let x = 1; x < visibleNc; x++) {
      ints[x * 3] = this.colBin[x] * 4;
      floats[x * 3 + 1] = this.colW0[x];
      floats[x * 3 + 2] = this.colW1[x];
    }
    heap.set(img.data, imgPtr);
    const hist = new Float32Array(mem.buffer, histPtr, histSize);
    hist.fill(0);
    const stride = img.width * 3;
    const histRow = histW * 18 * 4;
    for (let y = 1; y < visibleNr; y++) {
      const [h, vy0, vy1] = FhogExtractor.rowWeights(y, cellSize);
      const h1 = histPtr + h * histRow;
      k.voteRow(imgPtr + y * stride, stride, visibleNc, simdEnd, h1, h1 + histRow, vy0, vy1, lutPtr, colsPtr);
    }
    return hist;
  }

  /** The gradient votes of every pixel into this.hist ((cellsNr + 2) × histW cells of 18 bins). */
  private voteTs(
    img: RgbImage,
    cellSize: number,
    cellsNr: number,
    cellsNc: number,
    histW: number,
    histSize: number,
  ): Float32Array {
    if (this.hist.length < histSize) this.hist = new Float32Array(histSize);
    const hist = this.hist;
    hist.fill(0, 0, histSize);
    const W = img.width;
    const px = img.data;
    const table = orientations();
    const [visibleNr, visibleNc, simdEnd] = this.columnTables(img, cellSize, cellsNr, cellsNc);
    const colBin = this.colBin;
    const colW0 = this.colW0;
    const colW1 = this.colW1;
    for (let y = 1; y < visibleNr; y++) {
      const [h, vy0, vy1] = FhogExtractor.rowWeights(y, cellSize);
      const h1 = h * histW * 18;
      const h2 = h1 + histW * 18;
      const row = y * W * 3;
      const up = row - W * 3;
      const down = row + W * 3;
      for (let x = 1; x < visibleNc; x++) {
        const p = row + x * 3;
        const rx = px[p + 3] - px[p - 3];
        const ry = px[down + x * 3] - px[up + x * 3];
        const gxg = px[p + 4] - px[p - 2];
        const gyg = px[down + x * 3 + 1] - px[up + x * 3 + 1];
        const bx = px[p + 5] - px[p - 1];
        const by = px[down + x * 3 + 2] - px[up + x * 3 + 2];
        const rl = rx * rx + ry * ry;
        const gl = gxg * gxg + gyg * gyg;
        const bl = bx * bx + by * by;
        let gx: number;
        let gy: number;
        let len: number;
        const simd = x < simdEnd;
        if (simd) {
          if (rl > gl) {
            gx = rx;
            gy = ry;
            len = rl;
          } else {
            gx = gxg;
            gy = gyg;
            len = gl;
          }
          if (!(len > bl)) {
            gx = bx;
            gy = by;
            len = bl;
          }
        } else {
          gx = rx;
          gy = ry;
          len = rl;
          if (gl > len) {
            gx = gxg;
            gy = gyg;
            len = gl;
          }
          if (bl > len) {
            gx = bx;
            gy = by;
            len = bl;
          }
        }
        const o = table[(gx + 255) * 511 + gy + 255];
        const v = f(Math.sqrt(len));
        const vx0 = colW0[x];
        const vx1 = colW1[x];
        const c0 = colBin[x] + o;
        const c1 = c0 + 18;
        if (simd) {
          const a1 = f(vx1 * v);
          const a0 = f(vx0 * v);
          hist[h1 + c0] += f(vy1 * a1);
          hist[h2 + c0] += f(vy0 * a1);
          hist[h1 + c1] += f(vy1 * a0);
          hist[h2 + c1] += f(vy0 * a0);
        } else {
          hist[h1 + c0] += f(f(vy1 * vx1) * v);
          hist[h2 + c0] += f(f(vy0 * vx1) * v);
          hist[h1 + c1] += f(f(vy1 * vx0) * v);
          hist[h2 + c1] += f(f(vy0 * vx0) * v);
        }
      }
    }
    return hist;
  }
}
