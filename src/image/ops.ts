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

/** The smallest box holding both boxes. */
export function unionBox(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
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
