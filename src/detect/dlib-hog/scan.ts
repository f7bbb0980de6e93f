/**
 * The sliding-window scan of dlib's scan_fhog_pyramid (dlib/image_processing/scan_fhog_pyramid.h):
 * per pyramid level and per filter, the saliency image Σ over the filter's separable terms of
 * (col ⊗ row) ∗ plane, as dlib's float_spatially_filter_image_separable computes it
 * (dlib/image_transforms/spatial_filtering.h), then every cell whose saliency is ≥ the filter's
 * threshold becomes a window mapped back to image pixels (fhog_to_image, then pyramid rect_up).
 *
 * Float32 arithmetic in dlib's order: columns handled by its 8-wide SIMD loop sum the taps in three
 * interleaved accumulators (taps 0, 3, 6, 9… / 1, 4, 7… / 2, 5, 8…) added as a + (b + c); the
 * remaining columns of a row sum the taps in order.
 */
import type { FhogPlanes } from './fhog.js';
import type { DlibHogFilter } from './model.js';
import { type Rect, rectUp6 } from './pyramid.js';
import type { SimdFilter } from './simd-filter.js';

const f = Math.fround;

/** A window found at one pyramid level, before non-max suppression. */
export interface RawWindow {
  /** The filter response (saliency), a float32. */
  score: number;
  filter: number;
  rect: Rect;
}

/** Where the scan's buffers live: plain arrays, or the WebAssembly memory of the SIMD filter. */
export class ScanBuffers {
  planes = new Float32Array(0);
  scratch = new Float32Array(0);
  saliency = new Float32Array(0);
  /** Byte offsets in the WebAssembly memory (SIMD only). */
  planesPtr = 0;
  scratchPtr = 0;
  salPtr = 0;
  /** Per filter, per term: byte offsets of the row and column taps (SIMD only). */
  readonly tapPtrs: { row: number; col: number }[][] = [];
  private tapBytes = 0;

  constructor(
    readonly simd: SimdFilter | null,
    filters: readonly DlibHogFilter[],
  ) {
    if (!simd) return;
    let at = 0;
    const taps: Float32Array[] = [];
    for (const filter of filters) {
      const ptrs: { row: number; col: number }[] = [];
      for (const term of filter.terms) {
        ptrs.push({ row: at, col: at + term.row.length * 4 });
        at += (term.row.length + term.col.length) * 4;
        taps.push(term.row, term.col);
      }
      this.tapPtrs.push(ptrs);
    }
    this.tapBytes = (at + 15) & ~15;
    this.grow(0);
    const view = new Float32Array(simd.memory.buffer);
    let k = 0;
    for (const t of taps) {
      view.set(t, k);
      k += t.length;
    }
  }

  /** Room for 31 planes of `planeSize` floats plus the scratch and saliency images. */
  ensure(planeSize: number): void {
    if (this.saliency.length >= planeSize && this.planes.length >= planeSize * 31) return;
    this.grow(planeSize);
  }

  private grow(planeSize: number): void {
    const n = Math.max(planeSize, 4096);
    if (!this.simd) {
      this.planes = new Float32Array(n * 31);
      this.scratch = new Float32Array(n);
      this.saliency = new Float32Array(n);
      return;
    }
    const bytes = n * 4;
    this.planesPtr = this.tapBytes;
    this.scratchPtr = this.planesPtr + bytes * 31;
    this.salPtr = this.scratchPtr + bytes;
    const need = this.salPtr + bytes;
    const mem = this.simd.memory;
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    this.planes = new Float32Array(mem.buffer, this.planesPtr, n * 31);
    this.scratch = new Float32Array(mem.buffer, this.scratchPtr, n);
    this.saliency = new Float32Array(mem.buffer, this.salPtr, n);
  }
}

export interface ScanGeometry {
  cellSize: number;
  filterWidth: number;
  filterHeight: number;
  boxWidth: number;
  boxHeight: number;
}

/**
 * Run one filter over one level's planes (in `buf.planes`) and push the windows scoring ≥
 * `threshold` (in image pixels: fhog_to_image, then rect_up through `level` levels of
 * pyramid_down<6>) onto `out`.
 */
export function scanLevel(
  buf: ScanBuffers,
  planes: FhogPlanes,
  filter: DlibHogFilter,
  filterIndex: number,
  threshold: number,
  geometry: ScanGeometry,
  level: number,
  out: RawWindow[],
): void {
  const { width: nc, height: nr } = planes;
  if (nc === 0 || nr === 0 || filter.terms.length === 0) return;
  const { filterWidth: fw, filterHeight: fh } = geometry;
  const firstRow = fh >> 1;
  const firstCol = fw >> 1;
  const lastRow = nr - ((fh - 1) >> 1);
  const lastCol = nc - ((fw - 1) >> 1);
  const planeSize = nr * nc;
  buf.ensure(planeSize);
  const { scratch, saliency: sal, simd } = buf;
  sal.fill(0, 0, planeSize);
  // dlib's SIMD loop covers c = firstCol, firstCol + 8, … while c < lastCol − 7, eight columns each.
  let simdEnd = firstCol;
  while (simdEnd < lastCol - 7) simdEnd += 8;
  const simdCols = simdEnd - firstCol;
  const rowBytes = nc * 4;
  filter.terms.forEach((term, j) => {
    const base = term.plane * planeSize;
    if (simd) {
      const taps = buf.tapPtrs[filterIndex][j];
      simd.row(
        buf.planesPtr + base * 4,
        rowBytes,
        4,
        nr,
        taps.row,
        simdCols,
        buf.scratchPtr + firstCol * 4,
        rowBytes,
        0,
      );
      simd.col(
        buf.scratchPtr + firstCol * 4,
        rowBytes,
        rowBytes,
        lastRow - firstRow,
        taps.col,
        simdCols,
        buf.salPtr + (firstRow * nc + firstCol) * 4,
        rowBytes,
        1,
      );
      const tailCols = lastCol - simdEnd;
      if (tailCols > 0) {
        simd.rowTail(
          buf.planesPtr + (base + simdEnd - firstCol) * 4,
          rowBytes,
          4,
          nr,
          taps.row,
          tailCols,
          buf.scratchPtr + simdEnd * 4,
          rowBytes,
          0,
        );
        simd.colTail(
          buf.scratchPtr + simdEnd * 4,
          rowBytes,
          rowBytes,
          lastRow - firstRow,
          taps.col,
          tailCols,
          buf.salPtr + (firstRow * nc + simdEnd) * 4,
          rowBytes,
          1,
        );
      }
      return;
    }
    rowPass(buf.planes, base, nr, nc, term.row, firstCol, simdEnd, lastCol, scratch);
    colPass(scratch, nc, term.col, firstRow, lastRow, firstCol, simdEnd, lastCol, sal);
  });
  const { cellSize, boxWidth, boxHeight } = geometry;
  for (let r = firstRow; r < lastRow; r++) {
    for (let c = firstCol; c < lastCol; c++) {
      const s = sal[r * nc + c];
      if (s >= threshold) {
        // centered_rect(point(c, r), boxWidth, boxHeight), then fhog_to_image on both corners.
        const left = c - (boxWidth >> 1);
        const top = r - (boxHeight >> 1);
        const rect: Rect = [
          fhogToImage(left, cellSize, fw),
          fhogToImage(top, cellSize, fh),
          fhogToImage(left + boxWidth - 1, cellSize, fw),
          fhogToImage(top + boxHeight - 1, cellSize, fh),
        ];
        out.push({ score: s, filter: filterIndex, rect: level === 0 ? rect : rectUp6(rect, level) });
      }
    }
  }
}

/** fhog_to_image for one coordinate: back to pixels, then to the centre of the cell. */
function fhogToImage(p: number, cellSize: number, filterSize: number): number {
  const v = (p + 1 - ((filterSize - 1) >> 1)) * cellSize + 1;
  const half = Math.trunc(cellSize / 2);
  return v >= 0 ? v + half : v - half;
}

/** The row filter over every row of one plane, into scratch[r][firstCol, lastCol) (the plain-TypeScript path). */
function rowPass(
  src: Float32Array,
  base: number,
  nr: number,
  nc: number,
  k: Float32Array,
  firstCol: number,
  simdEnd: number,
  lastCol: number,
  out: Float32Array,
): void {
  const n = k.length;
  const interleaved = n - 2; // taps n < interleaved go to the three accumulators
  for (let r = 0; r < nr; r++) {
    const row = base + r * nc - firstCol;
    const o = r * nc;
    for (let c = firstCol; c < simdEnd; c++) {
      let a = 0;
      let b = 0;
      let d = 0;
      let t = 0;
      const p = row + c;
      for (; t < interleaved; t += 3) {
        a = f(a + f(src[p + t] * k[t]));
        b = f(b + f(src[p + t + 1] * k[t + 1]));
        d = f(d + f(src[p + t + 2] * k[t + 2]));
      }
      for (; t < n; t++) a = f(a + f(src[p + t] * k[t]));
      out[o + c] = f(a + f(b + d));
    }
    for (let c = simdEnd; c < lastCol; c++) {
      let a = 0;
      const p = row + c;
      for (let t = 0; t < n; t++) a = f(a + f(src[p + t] * k[t]));
      out[o + c] = a;
    }
  }
}

/** The column filter over rows [firstRow, lastRow), added into sal (dlib's add_to after the first term; sal starts at 0). */
function colPass(
  scratch: Float32Array,
  nc: number,
  k: Float32Array,
  firstRow: number,
  lastRow: number,
  firstCol: number,
  simdEnd: number,
  lastCol: number,
  sal: Float32Array,
): void {
  const n = k.length;
  const interleaved = n - 2;
  for (let r = firstRow; r < lastRow; r++) {
    const top = (r - firstRow) * nc;
    const o = r * nc;
    for (let c = firstCol; c < simdEnd; c++) {
      let a = 0;
      let b = 0;
      let d = 0;
      let t = 0;
      const p = top + c;
      for (; t < interleaved; t += 3) {
        a = f(a + f(scratch[p + t * nc] * k[t]));
        b = f(b + f(scratch[p + (t + 1) * nc] * k[t + 1]));
        d = f(d + f(scratch[p + (t + 2) * nc] * k[t + 2]));
      }
      for (; t < n; t++) a = f(a + f(scratch[p + t * nc] * k[t]));
      sal[o + c] += f(a + f(b + d));
    }
    for (let c = simdEnd; c < lastCol; c++) {
      let a = 0;
      const p = top + c;
      for (let t = 0; t < n; t++) a = f(a + f(scratch[p + t * nc] * k[t]));
      sal[o + c] += a;
    }
  }
}
