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

const f = Math.fround;

/** A window found at one pyramid level, before non-max suppression. */
export interface RawWindow {
  /** The filter response (saliency), a float32. */
  score: number;
  filter: number;
  rect: Rect;
}

/** Reusable buffers of the scan. */
export class SaliencyScanner {
  private scratch = new Float32Array(0);
  private saliency = new Float32Array(0);

  /**
   * Run one filter over one level's planes and push the windows scoring ≥ `threshold` (in image
   * pixels: fhog_to_image, then rect_up through `level` levels of pyramid_down<6>) onto `out`.
   */
  scan(
    planes: FhogPlanes,
    filter: DlibHogFilter,
    filterIndex: number,
    threshold: number,
    geometry: { cellSize: number; filterWidth: number; filterHeight: number; boxWidth: number; boxHeight: number },
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
    if (this.scratch.length < nr * nc) {
      this.scratch = new Float32Array(nr * nc);
      this.saliency = new Float32Array(nr * nc);
    }
    const scratch = this.scratch;
    const sal = this.saliency;
    sal.fill(0, 0, nr * nc);
    // dlib's SIMD loop covers c = firstCol, firstCol + 8, … while c < lastCol − 7, eight columns each.
    let simdEnd = firstCol;
    while (simdEnd < lastCol - 7) simdEnd += 8;
    const planeSize = nr * nc;
    for (const term of filter.terms) {
      rowPass(planes.data, term.plane * planeSize, nr, nc, term.row, firstCol, lastCol, simdEnd, scratch);
      colPass(scratch, nc, term.col, firstRow, lastRow, firstCol, lastCol, simdEnd, sal);
    }
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
}

/** fhog_to_image for one coordinate: back to pixels, then to the centre of the cell. */
function fhogToImage(p: number, cellSize: number, filterSize: number): number {
  const v = (p + 1 - ((filterSize - 1) >> 1)) * cellSize + 1;
  const half = Math.trunc(cellSize / 2);
  return v >= 0 ? v + half : v - half;
}

/** The row filter over every row of one plane, into scratch[r][firstCol, lastCol). */
function rowPass(
  src: Float32Array,
  base: number,
  nr: number,
  nc: number,
  k: Float32Array,
  firstCol: number,
  lastCol: number,
  simdEnd: number,
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

/** The column filter over rows [firstRow, lastRow), added into sal (dlib's add_to = true after the first term; sal starts at 0). */
function colPass(
  scratch: Float32Array,
  nc: number,
  k: Float32Array,
  firstRow: number,
  lastRow: number,
  firstCol: number,
  lastCol: number,
  simdEnd: number,
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
