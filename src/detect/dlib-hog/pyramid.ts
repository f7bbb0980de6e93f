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

import {
  ADD,
  exitUnlessLess,
  F32,
  F32_FROM_I32,
  f32load,
  get,
  I32,
  I32_FROM_F32,
  i32c,
  i32load,
  i32load8u,
  i32store8,
  instantiate,
  LOOP_END,
  LOOP_START,
  locals,
  SADD,
  SMUL,
  set,
  wasmModule,
} from '../../runtime/wasm-emit.js';
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
 * The SSE columns of one output row as a WebAssembly function (native float32 instead of
 * Math.fround): row(top, bottom, dst, cols, tb, invTb, table) with table = per column
 * [3·left, 3·right (i32), lr, 1 − lr (f32)] and top/bottom the byte offsets of the two source rows.
 */
function resizeRowBody(): number[] {
  const [TOP, BOTTOM, DST, COLS, TB, ITB, TABLE] = [0, 1, 2, 3, 4, 5, 6];
  const [C, A, B, CC, DD] = [7, 8, 9, 10, 11];
  const [TLF, TRF, BLF, BRF] = [12, 13, 14, 15];
  const code: number[] = [...i32c(0), ...set(C), ...LOOP_START, ...exitUnlessLess(C, COLS)];
  const fromTable = (o: number, base: number, out: number) => [
    ...get(TABLE),
    ...i32load(o),
    ...get(base),
    ...ADD,
    ...set(out),
  ];
  code.push(...fromTable(0, TOP, A), ...fromTable(4, TOP, B), ...fromTable(0, BOTTOM, CC), ...fromTable(4, BOTTOM, DD));
  const weight = (row: number, col: number, out: number) => [
    ...get(row),
    ...get(TABLE),
    ...f32load(col),
    ...SMUL,
    ...set(out),
  ];
  code.push(...weight(ITB, 12, TLF), ...weight(ITB, 8, TRF), ...weight(TB, 12, BLF), ...weight(TB, 8, BRF));
  const term = (w: number, p: number, ch: number) => [...get(w), ...get(p), ...i32load8u(ch), ...F32_FROM_I32, ...SMUL];
  for (let ch = 0; ch < 3; ch++) {
    code.push(...get(DST));
    code.push(
      ...term(TLF, A, ch),
      ...term(TRF, B, ch),
      ...SADD,
      ...term(BLF, CC, ch),
      ...SADD,
      ...term(BRF, DD, ch),
      ...SADD,
    );
    code.push(...I32_FROM_F32, ...i32store8(ch));
  }
  code.push(...get(DST), ...i32c(3), ...ADD, ...set(DST));
  code.push(...get(TABLE), ...i32c(16), ...ADD, ...set(TABLE));
  code.push(...get(C), ...i32c(1), ...ADD, ...set(C), ...LOOP_END, 0x0b);
  return [
    ...locals([
      [5, I32],
      [4, F32],
    ]),
    ...code,
  ];
}

type ResizeRow = (
  top: number,
  bottom: number,
  dst: number,
  cols: number,
  tb: number,
  invTb: number,
  table: number,
) => void;
let wasmResize: { memory: WebAssembly.Memory; row: ResizeRow } | null | undefined;

function resizeKernel(): { memory: WebAssembly.Memory; row: ResizeRow } | null {
  if (wasmResize === undefined) {
    const made = instantiate<{ row: ResizeRow }>(
      wasmModule([{ name: 'row', params: [I32, I32, I32, I32, F32, F32, I32], body: resizeRowBody() }]),
    );
    wasmResize = made ? { memory: made.memory, row: made.exports.row } : null;
  }
  return wasmResize;
}

/**
 * dlib's resize_image(in, out, interpolate_bilinear) for RGB images, into `out` (outW × outH × 3).
 * The SSE part computes ((tlf·tl + trf·tr) + blf·bl) + brf·br in float32 with tlf = (1−tb)(1−lr)
 * etc., truncating; the scalar tail mixes in double and truncates.
 */
export function resizeRgbBilinear(src: RgbImage, outW: number, outH: number, out: Uint8Array, wasm = true): void {
  const inW = src.width;
  const inH = src.height;
  const s = src.data;
  if (outW === 0 || outH === 0 || inW === 0 || inH === 0) return;
  const plan = columnPlan(inW, outW);
  const { simdEnd, left, right, lr, invLr } = plan;
  const yScale = (inH - 1) / Math.max(outH - 1, 1);
  const kernel = wasm ? resizeKernel() : null;
  if (kernel) {
    resizeWithKernel(kernel, src, outW, outH, out, plan, yScale);
    return;
  }
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

/** resizeRgbBilinear with the SSE columns in WebAssembly (same float32 operations) and the tail in TypeScript. */
function resizeWithKernel(
  kernel: { memory: WebAssembly.Memory; row: ResizeRow },
  src: RgbImage,
  outW: number,
  outH: number,
  out: Uint8Array,
  plan: ColumnPlan,
  yScale: number,
): void {
  const { simdEnd, left, right, lr } = plan;
  const inW = src.width;
  const inH = src.height;
  const tablePtr = 0;
  const srcPtr = (outW * 16 + 15) & ~15;
  const dstPtr = srcPtr + ((src.data.length + 15) & ~15);
  const need = dstPtr + out.length + 16;
  const mem = kernel.memory;
  if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
  const ints = new Int32Array(mem.buffer, tablePtr, outW * 4);
  const floats = new Float32Array(mem.buffer, tablePtr, outW * 4);
  for (let c = 0; c < simdEnd; c++) {
    ints[c * 4] = left[c] * 3;
    ints[c * 4 + 1] = right[c] * 3;
    floats[c * 4 + 2] = lr[c];
    floats[c * 4 + 3] = plan.invLr[c];
  }
  const heap = new Uint8Array(mem.buffer);
  heap.set(src.data, srcPtr);
  const s = src.data;
  let y = -yScale;
  for (let r = 0; r < outH; r++) {
    y += yScale;
    const top = Math.floor(y);
    const bottom = Math.min(top + 1, inH - 1);
    const tb = y - top;
    const rowT = top * inW * 3;
    const rowB = bottom * inW * 3;
    const o = r * outW * 3;
    if (simdEnd > 0) kernel.row(srcPtr + rowT, srcPtr + rowB, dstPtr + o, simdEnd, f(tb), f(1 - tb), tablePtr);
    for (let c = simdEnd; c < outW; c++) {
      const fr = lr[c];
      const a = rowT + left[c] * 3;
      const b = rowT + right[c] * 3;
      const cc = rowB + left[c] * 3;
      const d = rowB + right[c] * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = (1 - tb) * ((1 - fr) * s[a + ch] + fr * s[b + ch]) + tb * ((1 - fr) * s[cc + ch] + fr * s[d + ch]);
        heap[dstPtr + o + c * 3 + ch] = Math.trunc(v);
      }
    }
  }
  out.set(heap.subarray(dstPtr, dstPtr + out.length));
}

/** pyramid_down<6>(img): the next, smaller level. */
export function pyramidDown6(img: RgbImage, wasm = true): RgbImage {
  const { width, height } = pyramidDownSize(img.width, img.height);
  const data = new Uint8Array(width * height * 3);
  resizeRgbBilinear(img, width, height, data, wasm);
  return { width, height, data };
}

/** pyramid_up(img, out, pyramid_down<2>): the image upsampled about 2× as dlib's Python API does it. */
export function pyramidUp2(img: RgbImage, wasm = true): RgbImage {
  if (img.width === 0 || img.height === 0) return { width: 0, height: 0, data: new Uint8Array(0) };
  const { width, height } = pyramidUpSize(img.width, img.height);
  const data = new Uint8Array(width * height * 3);
  resizeRgbBilinear(img, width, height, data, wasm);
  return { width, height, data };
}
