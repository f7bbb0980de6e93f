/** Pure pixel operations on RgbImage / GrayImage shared by every stage and both hosts. */
import { FerkitError } from '../errors.js';
import type { Box, GrayImage, Point, RgbImage } from '../types.js';

/** Throws E_INPUT unless `image` is a well-formed RgbImage (positive integer size, 3 bytes a pixel). */
export function assertRgbImage(image: RgbImage): void {
  const { width, height, data } = image ?? {};
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new FerkitError('E_INPUT', `image: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!data || data.length !== width * height * 3) {
    throw new FerkitError('E_INPUT', `image: expected ${width * height * 3} RGB bytes, got ${data?.length}`);
  }
}

/** ITU-R BT.601 luma, as OpenCV's and Pillow's RGB→grey use (and FER2013 was made with). */
export function rgbToGray(image: RgbImage): GrayImage {
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = (data[j] * 299 + data[j + 1] * 587 + data[j + 2] * 114 + 500) / 1000;
  }
  return { width, height, data: out };
}

/** Drop or add channels: raw RGBA / RGB / grey pixels to RgbImage. */
export function toRgb(
  width: number,
  height: number,
  pixels: Uint8Array | Uint8ClampedArray,
  channels: number,
): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new FerkitError('E_INPUT', `raw pixels: width and height must be positive integers, got ${width}x${height}`);
  }
  if (![1, 3, 4].includes(channels))
    throw new FerkitError('E_INPUT', `raw pixels: channels must be 1, 3 or 4, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new FerkitError(
      'E_INPUT',
      `raw pixels: buffer has ${pixels.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
  if (channels === 3) return { width, height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length) };
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < out.length; i += channels, j += 3) {
    out[j] = pixels[i];
    out[j + 1] = pixels[channels === 1 ? i : i + 1];
    out[j + 2] = pixels[channels === 1 ? i : i + 2];
  }
  return { width, height, data: out };
}

/**
 * Bilinear resize of an interleaved image with `channels` channels, sampling at pixel centres
 * (the convention of OpenCV's INTER_LINEAR and tf.image.resizeBilinear with halfPixelCenters).
 */
export function resizeBilinear(
  src: { width: number; height: number; data: Uint8Array },
  width: number,
  height: number,
  channels: number,
): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      const a = (y0 * src.width + x0) * channels;
      const b = (y0 * src.width + x1) * channels;
      const c = (y1 * src.width + x0) * channels;
      const d = (y1 * src.width + x1) * channels;
      const o = (y * width + x) * channels;
      for (let k = 0; k < channels; k++) {
        const top = src.data[a + k] + (src.data[b + k] - src.data[a + k]) * wx;
        const bot = src.data[c + k] + (src.data[d + k] - src.data[c + k]) * wx;
        out[o + k] = top + (bot - top) * wy + 0.5;
      }
    }
  }
  return out;
}

/** Copy a box (integer-rounded) out of an RGB image; parts outside the image are filled with `fill`. */
export function cropRgb(image: RgbImage, box: Box, fill = 0): RgbImage {
  const x0 = Math.round(box.x);
  const y0 = Math.round(box.y);
  const w = Math.max(1, Math.round(box.width));
  const h = Math.max(1, Math.round(box.height));
  const out = new Uint8Array(w * h * 3).fill(fill);
  for (let y = 0; y < h; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= image.height) continue;
    const xa = Math.max(0, -x0);
    const xb = Math.min(w, image.width - x0);
    if (xb <= xa) continue;
    out.set(image.data.subarray((sy * image.width + x0 + xa) * 3, (sy * image.width + x0 + xb) * 3), (y * w + xa) * 3);
  }
  return { width: w, height: h, data: out };
}

/**
 * Sample an image through the affine map dst→src `[a, b, c, d, e, f]`
 * (srcX = a·x + b·y + c, srcY = d·x + e·y + f, at pixel centres), bilinear, edge-clamped, to grey.
 * RGB sources are converted per sampled pixel (BT.601), so a 48×48 face crop never pays for
 * converting the whole photo.
 */
export function warpAffineToGray(
  src: RgbImage | GrayImage,
  m: readonly number[],
  width: number,
  height: number,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const [a, b, c, d, e, f] = m;
  const W = src.width;
  const H = src.height;
  const px = src.data;
  const rgb = px.length === W * H * 3;
  const lum = rgb
    ? (i: number) => (px[3 * i] * 299 + px[3 * i + 1] * 587 + px[3 * i + 2] * 114) / 1000
    : (i: number) => px[i];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = a * (x + 0.5) + b * (y + 0.5) + c - 0.5;
      const sy = d * (x + 0.5) + e * (y + 0.5) + f - 0.5;
      const fx = Math.min(Math.max(sx, 0), W - 1);
      const fy = Math.min(Math.max(sy, 0), H - 1);
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(x0 + 1, W - 1);
      const y1 = Math.min(y0 + 1, H - 1);
      const wx = fx - x0;
      const wy = fy - y0;
      const p00 = lum(y0 * W + x0);
      const p01 = lum(y0 * W + x1);
      const p10 = lum(y1 * W + x0);
      const p11 = lum(y1 * W + x1);
      const top = p00 + (p01 - p00) * wx;
      const bot = p10 + (p11 - p10) * wx;
      out[y * width + x] = top + (bot - top) * wy + 0.5;
    }
  }
  return out;
}

/** Area of the overlap of two boxes (0 when they do not touch). */
export function intersectionArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Bounding box of a set of points (e.g. of 68 landmarks). */
export function pointsBox(points: readonly Point[]): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Greedy non-maximum suppression; returns the kept indices, best first. */
export function nonMaxSuppression(boxes: readonly Box[], scores: readonly number[], iouThreshold: number): number[] {
  const order = scores.map((_, i) => i).sort((i, j) => scores[j] - scores[i]);
  const keep: number[] = [];
  for (const i of order) {
    if (keep.every((k) => iou(boxes[i], boxes[k]) <= iouThreshold)) keep.push(i);
  }
  return keep;
}

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

/**
 * A detector input of width × height pixels made from a zero-padded canvas of canvasWidth ×
 * canvasHeight image pixels: the image at its top-left, padding right and bottom (face-api's layout).
 */
export interface DetectorInputGeometry {
  width: number;
  height: number;
  canvasWidth: number;
  canvasHeight: number;
}

/**
 * A detector input for an image: face-api's padded S × S square, or with `fit` the image's aspect
 * ratio — the longer side scaled to S, the shorter one to the next multiple of `multiple` (at most S),
 * so landscape photos and video frames do not spend the detector's work on padding.
 */
export function detectorInputGeometry(
  image: { width: number; height: number },
  inputSize: number,
  fit: boolean,
  multiple: number,
): DetectorInputGeometry {
  if (!fit) return squareInputGeometry(image, inputSize);
  const scale = inputSize / Math.max(image.width, image.height);
  const fitSide = (n: number) => Math.min(inputSize, Math.max(multiple, Math.ceil((n * scale) / multiple) * multiple));
  const width = fitSide(image.width);
  const height = fitSide(image.height);
  return { width, height, canvasWidth: Math.round(width / scale), canvasHeight: Math.round(height / scale) };
}

/** face-api's square geometry: the image padded to a side × side square, resized to S × S. */
export function squareInputGeometry(
  image: { width: number; height: number },
  inputSize: number,
): DetectorInputGeometry {
  const side = Math.max(image.width, image.height);
  return { width: inputSize, height: inputSize, canvasWidth: side, canvasHeight: side };
}

/**
 * Planar RGB float32 [3, height, width] in 0..255: the image zero-padded on the right/bottom to the
 * geometry's canvas and resized with TF's legacy bilinear mapping (SSD and TinyFaceDetector inputs).
 */
export function paddedInputTensor(image: RgbImage, geometry: DetectorInputGeometry, out?: Float32Array): Float32Array {
  assertRgbImage(image);
  const { width, height, canvasWidth, canvasHeight } = geometry;
  if (
    !(Number.isInteger(canvasWidth) && Number.isInteger(canvasHeight)) ||
    canvasWidth < image.width ||
    canvasHeight < image.height
  ) {
    throw new FerkitError(
      'E_INPUT',
      `detector input: canvas ${canvasWidth}x${canvasHeight} must be integers covering the ${image.width}x${image.height} image`,
    );
  }
  const buf = out ?? new Float32Array(3 * width * height);
  resampleBilinearTfPlanar(
    image,
    { x: 0, y: 0, width: image.width, height: image.height },
    { width: canvasWidth, height: canvasHeight, offsetX: 0, offsetY: 0 },
    width,
    height,
    buf,
  );
  return buf;
}

/**
 * face-api's detector input: planar RGB float32 [3, S, S] in 0..255, the image zero-padded on the
 * right/bottom to a square and resized with TF's legacy bilinear mapping (SSD and TinyFaceDetector).
 */
export function squareInputTensor(image: RgbImage, inputSize: number, out?: Float32Array): Float32Array {
  return paddedInputTensor(image, squareInputGeometry(image, inputSize), out);
}
