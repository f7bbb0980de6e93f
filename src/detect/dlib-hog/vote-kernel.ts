/**
 * The per-pixel part of dlib's fHOG (fhog.ts `vote`) for one image row, as generated WebAssembly:
 * gradient of the strongest channel with each of dlib's two tie-breaking rules, orientation from
 * the lookup table, float32 magnitude and bilinear votes into the cell histograms, all in native
 * float32 (the same operations, in the same order, as fhog.ts's Math.fround version).
 *
 * voteRow(row, stride, xEnd, simdEnd, h1, h2, vy0, vy1, lut, cols): `row` is the byte offset of
 * pixel (y, 0) of an RGB image with `stride` bytes a row; pixels x ∈ [1, xEnd) vote, those below
 * simdEnd with the SIMD rules; h1/h2 the byte offsets of histogram rows iyp + 1 and iyp + 2; `lut`
 * the 511 × 511 orientation table; `cols` per column [byte offset of the left bin (i32), vx0, vx1 (f32)].
 */
import {
  ADD,
  exitUnlessLess,
  F32,
  F32_FROM_I32,
  f32load,
  get,
  I32,
  i32c,
  i32load,
  i32load8u,
  instantiate,
  LOOP_END,
  LOOP_START,
  LT_S,
  locals,
  MUL,
  SADD,
  SMUL,
  SUB,
  set,
  uleb,
  wasmModule,
} from '../../runtime/wasm-emit.js';

const GT_S = [0x4a];
const SELECT = [0x1b];
const SQRT = [0x91];

function voteRowBody(): number[] {
  const [ROW, STRIDE, XEND, SIMDEND, H1, H2, VY0, VY1, LUT, COLS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // i32 locals
  const [X, L, U, D, RX, RY, GX, GY, BX, BY, RL, GL, BL, SX, SY, LEN, C0, CT] = Array.from(
    { length: 18 },
    (_, i) => 10 + i,
  );
  // f32 locals
  const [V, E11, E01, E10, E00, W0, W1] = Array.from({ length: 7 }, (_, i) => 28 + i);
  const code: number[] = [...i32c(1), ...set(X), ...LOOP_START, ...exitUnlessLess(X, XEND)];
  // L = row + 3x − 3 (left pixel), U/D = row ∓ stride + 3x (pixels above and below)
  code.push(...get(ROW), ...get(X), ...i32c(3), ...MUL, ...ADD, ...set(U));
  code.push(...get(U), ...i32c(3), ...SUB, ...set(L));
  code.push(...get(U), ...get(STRIDE), ...ADD, ...set(D));
  code.push(...get(U), ...get(STRIDE), ...SUB, ...set(U));
  const diff = (pa: number, oa: number, pb: number, ob: number, out: number) => [
    ...get(pa),
    ...i32load8u(oa),
    ...get(pb),
    ...i32load8u(ob),
    ...SUB,
    ...set(out),
  ];
  code.push(...diff(L, 6, L, 0, RX), ...diff(D, 0, U, 0, RY));
  code.push(...diff(L, 7, L, 1, GX), ...diff(D, 1, U, 1, GY));
  code.push(...diff(L, 8, L, 2, BX), ...diff(D, 2, U, 2, BY));
  const len2 = (a: number, b: number, out: number) => [
    ...get(a),
    ...get(a),
    ...MUL,
    ...get(b),
    ...get(b),
    ...MUL,
    ...ADD,
    ...set(out),
  ];
  code.push(...len2(RX, RY, RL), ...len2(GX, GY, GL), ...len2(BX, BY, BL));
  // pick(a, b, cond): locals ← cond ? a : b
  const pick = (ax: number, ay: number, al: number, bx: number, by: number, bl: number, cond: number[]) => [
    ...get(ax),
    ...get(bx),
    ...cond,
    ...SELECT,
    ...set(SX),
    ...get(ay),
    ...get(by),
    ...cond,
    ...SELECT,
    ...set(SY),
    ...get(al),
    ...get(bl),
    ...cond,
    ...SELECT,
    ...set(LEN),
  ];
  code.push(...get(X), ...get(SIMDEND), ...LT_S, 0x04, 0x40);
  // SIMD rule: red if rl > gl else green; then that if len > bl else blue.
  code.push(...pick(RX, RY, RL, GX, GY, GL, [...get(RL), ...get(GL), ...GT_S]));
  code.push(...pick(SX, SY, LEN, BX, BY, BL, [...get(LEN), ...get(BL), ...GT_S]));
  code.push(0x05);
  // Scalar rule: red; green if gl > len; blue if bl > len.
  code.push(...pick(GX, GY, GL, RX, RY, RL, [...get(GL), ...get(RL), ...GT_S]));
  code.push(...pick(BX, BY, BL, SX, SY, LEN, [...get(BL), ...get(LEN), ...GT_S]));
  code.push(0x0b);
  // bin offset: cols[x].bin + 4·lut[(sx + 255)·511 + sy + 255]
  code.push(...get(COLS), ...get(X), ...i32c(12), ...MUL, ...ADD, ...set(CT));
  code.push(...get(CT), ...i32load(0));
  code.push(...get(LUT), ...get(SX), ...i32c(255), ...ADD, ...i32c(511), ...MUL, ...ADD, ...get(SY), ...ADD);
  code.push(...i32load8u(255), ...i32c(4), ...MUL, ...ADD, ...set(C0));
  code.push(...get(LEN), ...F32_FROM_I32, ...SQRT, ...set(V));
  code.push(...get(CT), ...f32load(4), ...set(W0), ...get(CT), ...f32load(8), ...set(W1));
  const mul3 = (a: number, b: number, c: number, out: number) => [
    ...get(a),
    ...get(b),
    ...SMUL,
    ...get(c),
    ...SMUL,
    ...set(out),
  ];
  code.push(...get(X), ...get(SIMDEND), ...LT_S, 0x04, 0x40);
  // SIMD: vy · (vx · v)
  code.push(...get(W1), ...get(V), ...SMUL, ...set(W1), ...get(W0), ...get(V), ...SMUL, ...set(W0));
  code.push(...get(VY1), ...get(W1), ...SMUL, ...set(E11), ...get(VY0), ...get(W1), ...SMUL, ...set(E01));
  code.push(...get(VY1), ...get(W0), ...SMUL, ...set(E10), ...get(VY0), ...get(W0), ...SMUL, ...set(E00));
  code.push(0x05);
  // scalar: (vy · vx) · v
  code.push(...mul3(VY1, W1, V, E11), ...mul3(VY0, W1, V, E01), ...mul3(VY1, W0, V, E10), ...mul3(VY0, W0, V, E00));
  code.push(0x0b);
  const vote = (h: number, off: number, e: number) => [
    ...get(h),
    ...get(C0),
    ...ADD,
    ...get(h),
    ...get(C0),
    ...ADD,
    ...f32load(off),
    ...get(e),
    ...SADD,
    0x38,
    0x02,
    ...uleb(off), // f32.store offset=off
  ];
  code.push(...vote(H1, 0, E11), ...vote(H2, 0, E01), ...vote(H1, 72, E10), ...vote(H2, 72, E00));
  code.push(...get(X), ...i32c(1), ...ADD, ...set(X), ...LOOP_END, 0x0b);
  return [
    ...locals([
      [18, I32],
      [7, F32],
    ]),
    ...code,
  ];
}

export type VoteRow = (
  row: number,
  stride: number,
  xEnd: number,
  simdEnd: number,
  h1: number,
  h2: number,
  vy0: number,
  vy1: number,
  lut: number,
  cols: number,
) => void;

/** The kernel with its own memory, or null without WebAssembly. */
export function createVoteKernel(): { memory: WebAssembly.Memory; voteRow: VoteRow } | null {
  const made = instantiate<{ voteRow: VoteRow }>(
    wasmModule([{ name: 'voteRow', params: [I32, I32, I32, I32, I32, I32, F32, F32, I32, I32], body: voteRowBody() }]),
  );
  return made ? { memory: made.memory, voteRow: made.exports.voteRow } : null;
}
