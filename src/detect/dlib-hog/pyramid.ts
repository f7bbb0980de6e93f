/**
 * dlib's image pyramids as its HOG detector uses them (dlib/image_transforms/image_pyramid.h,
 * interpolation.h), bit-exact on RGB images:
 *  - pyramid_down<6>: each level is floor(5/6) the size of the previous one, resampled by dlib's
 *    SSE bilinear resize_image for RGB (float32 arithmetic, coordinates accumulated in float32,
 *    values truncated), with its scalar double-precision tail for the last columns;
 *  - pyramid_up with pyramid_down<2> (what dlib's Python API does for `detector(img, 1)`);
 *  - the maps of points and rectangles between levels (rect_up/rect_down), with dlib's conversion
 *    of a drectangle to a rectangle (each side rounded by floor(v + 0.5)).
 * Rectangles are dlib's: inclusive integer [left, top, right, bottom].
 */
import type { RgbImage } from '../../types.js';

export type Rect = [left: number, top: number, right: number, bottom: number];

const f = Math.fround;

/** dlib's drectangle → rectangle conversion. */
const roundSide = (v: number): number => Math.floor(v + 0.5);

/** pyramid_down<6>::rect_up(rect, levels): p ↦ p·6/5 + 0.3, `levels` times, then rounded. */
export function rectUp6(r: Rect, levels: number): Rect {
  const ratio = 6 / 5;
  let [l, t, rr, b] = r;
  for (let i = 0; i < levels; i++) {
    l = l * ratio + 0.3;
    t = t * ratio + 0.3;
    rr = rr * ratio + 0.3;
    b = b * ratio + 0.3;
  }
  return [roundSide(l), roundSide(t), roundSide(rr), roundSide(b)];
}

/** pyramid_down<6>::rect_down(rect): p ↦ (p − 0.3)·5/6, rounded. */
export function rectDown6(r: Rect): Rect {
  const ratio = 5 / 6;
  return r.map((v) => roundSide((v - 0.3) * ratio)) as Rect;
}

/** pyramid_down<2>::rect_down(rect, levels): p ↦ p/2 − (1.25, 0.75), `levels` times, then rounded. */
export function rectDown2(r: Rect, levels: number): Rect {
  let [l, t, rr, b] = r;
  for (let i = 0; i < levels; i++) {
    l = l / 2 - 1.25;
    rr = rr / 2 - 1.25;
    t = t / 2 - 0.75;
    b = b / 2 - 0.75;
  }
  return [roundSide(l), roundSide(t), roundSide(rr), roundSide(b)];
}

/** The size pyramid_up(img, out, pyramid_down<2>) gives: that of rect_up(get_rect(img)), i.e. (2w + 2) × (2h + 1). */
export function pyramidUpSize(width: number, height: number): { width: number; height: number } {
  const right = roundSide((width - 1 + 1.25) * 2);
  const bottom = roundSide((height - 1 + 0.75) * 2);
  return { width: right + 1, height: bottom + 1 };
}

/** The size pyramid_down<6> gives: ((N−1)·n)/N in integers. */
export function pyramidDownSize(width: number, height: number): { width: number; height: number } {
  return { width: Math.floor((5 * width) / 6), height: Math.floor((5 * height) / 6) };
}

/**
 * How many levels create_fhog_pyramid makes: rect_down from the image rectangle until it is
 * narrower or shorter than the smallest layer (or maxLevels is reached), counting the last one.
 */
export function pyramidLevelCount(
  width: number,
  height: number,
  minW: number,
  minH: number,
  maxLevels: number,
): number {
  let r: Rect = [0, 0, width - 1, height - 1];
  let levels = 0;
  do {
    r = rectDown6(r);
    levels++;
  } while (r[2] - r[0] + 1 >= minW && r[3] - r[1] + 1 >= minH && levels < maxLevels);
  return levels;
}

/** Column tables of dlib's SSE resize for one (input width, output width): see resizeRgbBilinear. */
interface ColumnPlan {
  /** Columns [0, simdEnd) go through the float32 SSE path, the rest through the double tail. */
  simdEnd: number;
  left: Int32Array;
  /** SSE columns: float32 lr_frac and 1 − lr_frac; tail columns: the double lr_frac. */
  lr: Float64Array;
  invLr: Float64Array;
  right: Int32Array;
}

function columnPlan(inW: number, outW: number): ColumnPlan {
  const xScale = (inW - 1) / Math.max(outW - 1, 1);
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const lr = new Float64Array(outW);
  const invLr = new Float64Array(outW);
  // The SSE loop: four float32 lanes start at x, x + s, x + 2s, x + 3s (x = −4s, in double, then
  // rounded) and each step adds float32(4s) in float32; it stops before the first group of four
  // whose last right neighbour would fall outside the input.
  const x0 = -4 * xScale;
  const lanes = [f(x0), f(x0 + xScale), f(x0 + 2 * xScale), f(x0 + 3 * xScale)];
  const step = f(4 * xScale);
  let c = 0;
  for (; ; c += 4) {
    for (let k = 0; k < 4; k++) lanes[k] = f(lanes[k] + step);
    if (Math.trunc(lanes[3]) + 1 >= inW) break;
    for (let k = 0; k < 4; k++) {
      const l = Math.trunc(lanes[k]);
      const fr = f(lanes[k] - l);
      if (c + k < outW) {
        left[c + k] = l;
        right[c + k] = l + 1;
        lr[c + k] = fr;
        invLr[c + k] = f(1 - fr);
      }
    }
  }
  const simdEnd = Math.min(c, outW);
  let x = -xScale + c * xScale;
  for (let cc = c; cc < outW; cc++) {
    x += xScale;
    const l = Math.floor(x);
    left[cc] = l;
    right[cc] = Math.min(l + 1, inW - 1);
    lr[cc] = x - l;
  }
  return { simdEnd, left, lr, invLr, right };
}

/**
 * dlib's resize_image(in, out, interpolate_bilinear) for RGB images, into `out` (outW × outH × 3).
 * The SSE part computes ((tlf·tl + trf·tr) + blf·bl) + brf·br in float32 with tlf = (1−tb)(1−lr)
 * etc., truncating; the scalar tail mixes in double and truncates.
 */
export function resizeRgbBilinear(src: RgbImage, outW: number, outH: number, out: Uint8Array): void {
  const inW = src.width;
  const inH = src.height;
  const s = src.data;
  if (outW === 0 || outH === 0 || inW === 0 || inH === 0) return;
  const plan = columnPlan(inW, outW);
  const { simdEnd, left, right, lr, invLr } = plan;
  const yScale = (inH - 1) / Math.max(outH - 1, 1);
  let y = -yScale;
  for (let r = 0; r < outH; r++) {
    y += yScale;
    const top = Math.floor(y);
    const bottom = Math.min(top + 1, inH - 1);
    const tb = y - top;
    const tbF = f(tb);
    const invTbF = f(1 - tb);
    const rowT = top * inW * 3;
    const rowB = bottom * inW * 3;
    let o = r * outW * 3;
    for (let c = 0; c < simdEnd; c++, o += 3) {
      const tlf = f(invTbF * invLr[c]);
      const trf = f(invTbF * lr[c]);
      const blf = f(tbF * invLr[c]);
      const brf = f(tbF * lr[c]);
      const a = rowT + left[c] * 3;
      const b = rowT + right[c] * 3;
      const cc = rowB + left[c] * 3;
      const d = rowB + right[c] * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = f(f(f(f(tlf * s[a + ch]) + f(trf * s[b + ch])) + f(blf * s[cc + ch])) + f(brf * s[d + ch]));
        out[o + ch] = Math.trunc(v);
      }
    }
    for (let c = simdEnd; c < outW; c++, o += 3) {
      const fr = lr[c];
      const a = rowT + left[c] * 3;
      const b = rowT + right[c] * 3;
      const cc = rowB + left[c] * 3;
      const d = rowB + right[c] * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = (1 - tb) * ((1 - fr) * s[a + ch] + fr * s[b + ch]) + tb * ((1 - fr) * s[cc + ch] + fr * s[d + ch]);
        out[o + ch] = Math.trunc(v);
      }
    }
  }
}

/** pyramid_down<6>(img): the next, smaller level. */
export function pyramidDown6(img: RgbImage): RgbImage {
  const { width, height } = pyramidDownSize(img.width, img.height);
  const data = new Uint8Array(width * height * 3);
  resizeRgbBilinear(img, width, height, data);
  return { width, height, data };
}

/** pyramid_up(img, out, pyramid_down<2>): the image upsampled about 2× as dlib's Python API does it. */
export function pyramidUp2(img: RgbImage): RgbImage {
  if (img.width === 0 || img.height === 0) return { width: 0, height: 0, data: new Uint8Array(0) };
  const { width, height } = pyramidUpSize(img.width, img.height);
  const data = new Uint8Array(width * height * 3);
  resizeRgbBilinear(img, width, height, data);
  return { width, height, data };
}
