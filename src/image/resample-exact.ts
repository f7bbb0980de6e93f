/** Resamplers that reproduce other libraries bit for bit: tfjs's bilinear resize of a padded canvas, OpenCV's INTER_LINEAR_EXACT. */
import { FerkitError } from '../errors.js';
import type { Box, RgbImage } from '../types.js';

/** Where an image region sits on a zero-filled canvas, for resampleBilinearTfPlanar. */
export interface PaddedCanvas {
  width: number;
  height: number;
  /** Canvas position of the region's top-left pixel. */
  offsetX: number;
  offsetY: number;
}

/**
 * Resample an image region into planar (CHW) float32 RGB with TensorFlow's legacy bilinear map —
 * tf.image.resizeBilinear(alignCorners = false, halfPixelCenters = false), which face-api uses:
 * output pixel i reads source coordinate i·(in/out) with NO half-pixel shift, interpolating between
 * floor and ceil (clamped to the last pixel). This differs from resizeBilinear above (pixel-centre
 * sampling) by up to half a source pixel, which matters when matching a tfjs model's inputs.
 *
 * The source is a virtual `canvas` of zeros with the integer `region` of `image` placed at
 * (offsetX, offsetY), so face-api's "pad to square with zeros, then resize" is one pass with no
 * intermediate buffer. Values stay 0..255 and unrounded, as tfjs keeps them in float32. Writes
 * 3·outWidth·outHeight values into `out` from `outOffset`.
 */
export function resampleBilinearTfPlanar(
  image: RgbImage,
  region: Box,
  canvas: PaddedCanvas,
  outWidth: number,
  outHeight: number,
  out: Float32Array,
  outOffset = 0,
): void {
  const { x: rx, y: ry, width: rw, height: rh } = region;
  if (
    !Number.isInteger(rx) ||
    !Number.isInteger(ry) ||
    !Number.isInteger(rw) ||
    !Number.isInteger(rh) ||
    rx < 0 ||
    ry < 0 ||
    rx + rw > image.width ||
    ry + rh > image.height
  ) {
    throw new FerkitError('E_INPUT', `resample: region ${rx},${ry} ${rw}x${rh} is not an integer box inside the image`);
  }
  /**
   * Per output coordinate along one axis: the canvas neighbours floor(f) and min(ceil(f), last) of
   * f = o·in/out, as source pixel indices (−1 where the canvas is padding), and the weight f − floor(f).
   */
  const axis = (outSize: number, canvasSize: number, offset: number, regionStart: number, regionSize: number) => {
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const frac = new Float64Array(outSize);
    const ratio = canvasSize / outSize;
    const toSource = (c: number) => (c - offset >= 0 && c - offset < regionSize ? regionStart + c - offset : -1);
    for (let o = 0; o < outSize; o++) {
      const f = ratio * o;
      const lo = Math.max(0, Math.floor(f));
      const hi = Math.min(canvasSize - 1, Math.ceil(f));
      i0[o] = toSource(lo);
      i1[o] = toSource(hi);
      frac[o] = f - lo;
    }
    return { i0, i1, frac };
  };
  const cols = axis(outWidth, canvas.width, canvas.offsetX, rx, rw);
  const rows = axis(outHeight, canvas.height, canvas.offsetY, ry, rh);
  const { data, width } = image;
  const plane = outWidth * outHeight;
  // Byte offsets of the column neighbours within a row (−1: padding), hoisted out of the pixel loop.
  const c0s = cols.i0.map((c) => (c < 0 ? -1 : c * 3));
  const c1s = cols.i1.map((c) => (c < 0 ? -1 : c * 3));
  const sample = (rowStart: number, col: number, c: number) => (rowStart < 0 || col < 0 ? 0 : data[rowStart + col + c]);
  for (let y = 0; y < outHeight; y++) {
    const r0 = rows.i0[y] < 0 ? -1 : rows.i0[y] * width * 3;
    const r1 = rows.i1[y] < 0 ? -1 : rows.i1[y] * width * 3;
    const wy = rows.frac[y];
    let o = outOffset + y * outWidth;
    for (let x = 0; x < outWidth; x++, o++) {
      const c0 = c0s[x];
      const c1 = c1s[x];
      const wx = cols.frac[x];
      if (r0 >= 0 && r1 >= 0 && c0 >= 0 && c1 >= 0) {
        // Fast path: all four neighbours are image pixels.
        for (let c = 0; c < 3; c++) {
          const tl = data[r0 + c0 + c];
          const tr = data[r0 + c1 + c];
          const bl = data[r1 + c0 + c];
          const br = data[r1 + c1 + c];
          const top = tl + (tr - tl) * wx;
          const bottom = bl + (br - bl) * wx;
          out[o + c * plane] = top + (bottom - top) * wy;
        }
      } else {
        for (let c = 0; c < 3; c++) {
          const tl = sample(r0, c0, c);
          const tr = sample(r0, c1, c);
          const bl = sample(r1, c0, c);
          const br = sample(r1, c1, c);
          const top = tl + (tr - tl) * wx;
          const bottom = bl + (br - bl) * wx;
          out[o + c * plane] = top + (bottom - top) * wy;
        }
      }
    }
  }
}

/**
 * One axis of OpenCV's INTER_LINEAR_EXACT (resize_bitExact<uchar, interpolationLinear>): for each
 * destination index, the source index and the weight of the next source pixel in 8-bit fixed point
 * (0..256), with `-1`/`-2` as offset for "clamp to the first / last source pixel".
 */
function linearExactAxis(srcSize: number, dstSize: number): { ofs: Int32Array; w1: Int32Array } {
  const ofs = new Int32Array(dstSize);
  const w1 = new Int32Array(dstSize);
  const scale = 1 / (dstSize / srcSize); // softdouble::one() / inv_scale, in IEEE doubles like softdouble
  for (let d = 0; d < dstSize; d++) {
    const f = scale * (d + 0.5) - 0.5;
    const i = Math.floor(f);
    if (i < 0 || srcSize <= 1) {
      ofs[d] = -1;
    } else if (i >= srcSize - 1) {
      ofs[d] = -2;
    } else {
      ofs[d] = i;
      // ufixedpoint16(softdouble): cvRound(frac · 256), round half to even.
      const v = (f - i) * 256;
      let r = Math.round(v);
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      w1[d] = r;
    }
  }
  return { ofs, w1 };
}

/**
 * Bit-exact port of OpenCV's `resize(..., INTER_LINEAR_EXACT)` for 8-bit grey images, the resize
 * CascadeClassifier uses for its pyramid: separable, pixel-centre aligned, 8-bit fixed-point weights,
 * a horizontal pass kept in 8.8 fixed point, then a vertical pass rounded from 16.16.
 * (A 2× downscale, which OpenCV routes to INTER_AREA, gives the same bytes.)
 */
export function resizeGrayLinearExact(
  src: { width: number; height: number; data: Uint8Array },
  width: number,
  height: number,
  out: Uint8Array = new Uint8Array(width * height),
): Uint8Array {
  const sw = src.width;
  const sh = src.height;
  const s = src.data;
  const xs = linearExactAxis(sw, width);
  const ys = linearExactAxis(sh, height);
  const line0 = new Uint16Array(width);
  const line1 = new Uint16Array(width);
  let row0 = -1; // source rows currently in line0 / line1
  let row1 = -1;
  const hline = (y: number, dst: Uint16Array) => {
    const base = y * sw;
    for (let x = 0; x < width; x++) {
      const o = xs.ofs[x];
      if (o >= 0) {
        const w = xs.w1[x];
        dst[x] = (256 - w) * s[base + o] + w * s[base + o + 1];
      } else {
        dst[x] = s[base + (o === -1 ? 0 : sw - 1)] << 8;
      }
    }
  };
  for (let y = 0; y < height; y++) {
    const o = ys.ofs[y];
    const dstRow = y * width;
    if (o < 0) {
      const r = o === -1 ? 0 : sh - 1;
      if (row0 !== r) {
        hline(r, line0);
        row0 = r;
      }
      for (let x = 0; x < width; x++) out[dstRow + x] = (line0[x] + 128) >> 8;
      continue;
    }
    if (row0 !== o) {
      if (row1 === o) {
        line0.set(line1);
      } else {
        hline(o, line0);
      }
      row0 = o;
    }
    if (row1 !== o + 1) {
      hline(o + 1, line1);
      row1 = o + 1;
    }
    const w = ys.w1[y];
    const w0 = 256 - w;
    for (let x = 0; x < width; x++) {
      out[dstRow + x] = (line0[x] * w0 + line1[x] * w + 32768) >>> 16;
    }
  }
  return out;
}
