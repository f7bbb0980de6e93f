/**
 * The hot loop of the scan — dlib's float_spatially_filter_image_separable over the columns its
 * SIMD loop covers — as a tiny WebAssembly module generated here, using f32x4 arithmetic: IEEE
 * float32 lane by lane, exactly what dlib's SSE code computes, in the same order (three interleaved
 * accumulators, then a + (b + c)); only faster than emulating float32 with Math.fround.
 * The taps are unrolled for the model's filter sizes. Host-free: WebAssembly exists in Node and in
 * browsers (SIMD since Node 16 / Chrome 91 / Firefox 89 / Safari 16.4); the module is well under the
 * 4 KB a browser's main thread may compile synchronously. When WebAssembly SIMD is missing, scan.ts
 * falls back to its plain-TypeScript loops (same results, slower).
 */

/**
 * One pass of the separable filter over a range of columns. Parameters (i32, bytes or
 * counts): src, srcRowStep (bytes between output rows in the source), tapStep (bytes between taps),
 * rows, kptr (the taps, float32), cols (a multiple of 4), dst, dstRowStep, add (0: store, 1: add to dst).
 * For output row r and column c (0-based within the pass): taps at src + r·srcRowStep + 4c + t·tapStep.
 */
import {
  ADD,
  F32,
  FADD,
  FMUL,
  f32load,
  f32store,
  get,
  I32,
  i32c,
  instantiate,
  LT_S,
  locals,
  MUL,
  SADD,
  SMUL,
  set,
  splat32,
  tee,
  V128,
  v128load,
  v128store,
  wasmModule,
} from '../../runtime/wasm-emit.js';

function passFunction(taps: number, scalar: boolean): number[] {
  // scalar: one column at a time in f32 with the taps summed in order (dlib's tail loop);
  // else four columns at a time in f32x4 with dlib's three interleaved accumulators.
  const VT = scalar ? F32 : V128;
  const load = scalar ? f32load : v128load;
  const store = scalar ? f32store : v128store;
  const add = scalar ? SADD : FADD;
  const mul = scalar ? SMUL : FMUL;
  const width = scalar ? 1 : 4;
  // params 0..8; locals: 9 r, 10 c, 11 p, 12 q, 13 rowSrc, 14 rowDst, then v128: 15 a, 16 b, 17 d, 18.. k[t]
  const [SRC, SROW, TSTEP, ROWS, KPTR, COLS, DST, DROW, ADDTO] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [R, C, P, Q, RS, RD] = [9, 10, 11, 12, 13, 14];
  const [A, B, D] = [15, 16, 17];
  const K = (t: number) => 18 + t;
  const code: number[] = [];
  for (let t = 0; t < taps; t++) code.push(...get(KPTR), ...(scalar ? f32load(t * 4) : splat32(t * 4)), ...set(K(t)));
  code.push(...i32c(0), ...set(R));
  code.push(...get(SRC), ...set(RS), ...get(DST), ...set(RD));
  // block { loop { if !(r < rows) break; …; r++; br loop } }
  code.push(0x02, 0x40, 0x03, 0x40);
  code.push(...get(R), ...get(ROWS), ...LT_S, 0x45, 0x0d, 0x01); // i32.eqz; br_if 1
  code.push(...i32c(0), ...set(C));
  code.push(0x02, 0x40, 0x03, 0x40);
  code.push(...get(C), ...get(COLS), ...LT_S, 0x45, 0x0d, 0x01);
  // p = rowSrc + 4c
  code.push(...get(RS), ...get(C), ...i32c(4), ...MUL, ...ADD, ...set(P));
  // Tap t goes to accumulator t mod 3 for t < taps − 2 (groups of three), the rest to a.
  const interleaved = scalar ? 0 : Math.max(0, taps - 2);
  const acc = (t: number) => (t < Math.ceil(interleaved / 3) * 3 ? [A, B, D][t % 3] : A);
  const started = new Set<number>();
  code.push(...get(P), ...set(Q));
  for (let t = 0; t < taps; t++) {
    const x = acc(t);
    if (started.has(x)) code.push(...get(x));
    code.push(...get(Q), ...load(0), ...get(K(t)), ...mul);
    if (started.has(x)) code.push(...add);
    code.push(...set(x));
    started.add(x);
    if (t + 1 < taps) code.push(...get(Q), ...get(TSTEP), ...ADD, ...set(Q));
  }
  // result = a + (b + d), each present
  code.push(...get(A));
  if (started.has(B) && started.has(D)) code.push(...get(B), ...get(D), ...add, ...add);
  else if (started.has(B)) code.push(...get(B), ...add);
  code.push(...set(A));
  // q = rowDst + 4c; dst[q] = add ? a + dst[q] : a
  code.push(...get(RD), ...get(C), ...i32c(4), ...MUL, ...ADD, ...tee(Q));
  code.push(...get(ADDTO), 0x04, VT); // if (result)
  code.push(...get(A), ...get(Q), ...load(0), ...add);
  code.push(0x05, ...get(A), 0x0b); // else a; end
  code.push(...store);
  code.push(...get(C), ...i32c(width), ...ADD, ...set(C), 0x0c, 0x00, 0x0b, 0x0b); // c += 4; br loop; end loop; end block
  code.push(...get(RS), ...get(SROW), ...ADD, ...set(RS));
  code.push(...get(RD), ...get(DROW), ...ADD, ...set(RD));
  code.push(...get(R), ...i32c(1), ...ADD, ...set(R), 0x0c, 0x00, 0x0b, 0x0b);
  code.push(0x0b); // end function
  return [
    ...locals([
      [6, I32],
      [3 + taps, VT],
    ]),
    ...code,
  ];
}

type Pass = (
  src: number,
  srcRowStep: number,
  tapStep: number,
  rows: number,
  kptr: number,
  cols: number,
  dst: number,
  dstRowStep: number,
  add: number,
) => void;

export interface SimdFilter {
  memory: WebAssembly.Memory;
  /** dlib's SIMD columns, four at a time (`cols` a multiple of 4). */
  row: Pass;
  col: Pass;
  /** dlib's scalar tail columns, one at a time, taps summed in order. */
  rowTail: Pass;
  colTail: Pass;
}

/** The module for these tap counts, or null when this JavaScript engine has no WebAssembly SIMD. */
export function createSimdFilter(rowTaps: number, colTaps: number): SimdFilter | null {
  const params = new Array(9).fill(I32);
  const made = instantiate<Omit<SimdFilter, 'memory'>>(
    wasmModule([
      { name: 'row', params, body: passFunction(rowTaps, false) },
      { name: 'col', params, body: passFunction(colTaps, false) },
      { name: 'rowTail', params, body: passFunction(rowTaps, true) },
      { name: 'colTail', params, body: passFunction(colTaps, true) },
    ]),
  );
  if (!made) return null;
  const { row, col, rowTail, colTail } = made.exports;
  return { memory: made.memory, row, col, rowTail, colTail };
}
