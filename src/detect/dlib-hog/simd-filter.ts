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

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

// Opcodes.
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = [0x6a];
const MUL = [0x6c];
const LT_S = [0x48];
const v128load = (offset: number) => [0xfd, 0x00, 0x00, ...uleb(offset)]; // align 1: loads are unaligned
const splat32 = (offset: number) => [0xfd, 0x09, 0x02, ...uleb(offset)];
const v128store = [0xfd, 0x0b, 0x00, 0x00];
const FADD = [0xfd, ...uleb(0xe4)];
const FMUL = [0xfd, ...uleb(0xe6)];

/**
 * One pass of the separable filter over the SIMD columns, 4 at a time. Parameters (i32, bytes or
 * counts): src, srcRowStep (bytes between output rows in the source), tapStep (bytes between taps),
 * rows, kptr (the taps, float32), cols (a multiple of 4), dst, dstRowStep, add (0: store, 1: add to dst).
 * For output row r and column c (0-based within the pass): taps at src + r·srcRowStep + 4c + t·tapStep.
 */
function passFunction(taps: number): number[] {
  // params 0..8; locals: 9 r, 10 c, 11 p, 12 q, 13 rowSrc, 14 rowDst, then v128: 15 a, 16 b, 17 d, 18.. k[t]
  const [SRC, SROW, TSTEP, ROWS, KPTR, COLS, DST, DROW, ADDTO] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [R, C, P, Q, RS, RD] = [9, 10, 11, 12, 13, 14];
  const [A, B, D] = [15, 16, 17];
  const K = (t: number) => 18 + t;
  const code: number[] = [];
  for (let t = 0; t < taps; t++) code.push(...get(KPTR), ...splat32(t * 4), ...set(K(t)));
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
  const interleaved = Math.max(0, taps - 2);
  const acc = (t: number) => (t < Math.ceil(interleaved / 3) * 3 ? [A, B, D][t % 3] : A);
  const started = new Set<number>();
  code.push(...get(P), ...set(Q));
  for (let t = 0; t < taps; t++) {
    const x = acc(t);
    if (started.has(x)) code.push(...get(x));
    code.push(...get(Q), ...v128load(0), ...get(K(t)), ...FMUL);
    if (started.has(x)) code.push(...FADD);
    code.push(...set(x));
    started.add(x);
    if (t + 1 < taps) code.push(...get(Q), ...get(TSTEP), ...ADD, ...set(Q));
  }
  // result = a + (b + d), each present
  code.push(...get(A));
  if (started.has(B) && started.has(D)) code.push(...get(B), ...get(D), ...FADD, ...FADD);
  else if (started.has(B)) code.push(...get(B), ...FADD);
  code.push(...set(A));
  // q = rowDst + 4c; dst[q] = add ? a + dst[q] : a
  code.push(...get(RD), ...get(C), ...i32c(4), ...MUL, ...ADD, ...tee(Q));
  code.push(...get(ADDTO), 0x04, V128); // if (result v128)
  code.push(...get(A), ...get(Q), ...v128load(0), ...FADD);
  code.push(0x05, ...get(A), 0x0b); // else a; end
  code.push(...v128store);
  code.push(...get(C), ...i32c(4), ...ADD, ...set(C), 0x0c, 0x00, 0x0b, 0x0b); // c += 4; br loop; end loop; end block
  code.push(...get(RS), ...get(SROW), ...ADD, ...set(RS));
  code.push(...get(RD), ...get(DROW), ...ADD, ...set(RD));
  code.push(...get(R), ...i32c(1), ...ADD, ...set(R), 0x0c, 0x00, 0x0b, 0x0b);
  code.push(0x0b); // end function
  const locals = vec([
    [...uleb(6), I32],
    [...uleb(3 + taps), V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(rowTaps: number, colTaps: number): Uint8Array<ArrayBuffer> {
  const params = [...uleb(9), ...new Array(9).fill(I32)];
  const type = [0x60, ...params, 0x00];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([type])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])), // memory, min 1 page
    ...section(3, vec([[0x00], [0x00]])),
    ...section(
      7,
      vec([
        [...name('row'), 0x00, 0x00],
        [...name('col'), 0x00, 0x01],
      ]),
    ),
    ...section(10, vec([passFunction(rowTaps), passFunction(colTaps)])),
  ];
  return new Uint8Array(bytes);
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
  row: Pass;
  col: Pass;
}

/** The module for these tap counts, or null when this JavaScript engine has no WebAssembly SIMD. */
export function createSimdFilter(rowTaps: number, colTaps: number): SimdFilter | null {
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = moduleBytes(rowTaps, colTaps);
    if (!WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: memory } });
    const { row, col } = instance.exports as unknown as { row: Pass; col: Pass };
    return { memory, row, col };
  } catch {
    return null;
  }
}
