/** A minimal WebAssembly binary emitter (host-free): what ferkit's generated kernels (dlib-hog, the dlib leaf sum) need. */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
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
export function sleb(n: number): number[] {
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

export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

// Opcodes.
export const I32 = 0x7f;
export const V128 = 0x7b;
export const get = (i: number) => [0x20, ...uleb(i)];
export const set = (i: number) => [0x21, ...uleb(i)];
export const tee = (i: number) => [0x22, ...uleb(i)];
export const i32c = (v: number) => [0x41, ...sleb(v)];
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const LT_S = [0x48];
export const v128load = (offset: number) => [0xfd, 0x00, 0x00, ...uleb(offset)]; // align 1: loads are unaligned
export const splat32 = (offset: number) => [0xfd, 0x09, 0x02, ...uleb(offset)];
export const v128store = [0xfd, 0x0b, 0x00, 0x00];
export const FADD = [0xfd, ...uleb(0xe4)];
export const FMUL = [0xfd, ...uleb(0xe6)];
export const F32 = 0x7d;
export const f32load = (offset: number) => [0x2a, 0x02, ...uleb(offset)];
export const f32store = [0x38, 0x02, 0x00];
export const SADD = [0x92];
export const SMUL = [0x94];

export const i32load8u = (offset: number) => [0x2d, 0x00, ...uleb(offset)];
export const i32load = (offset: number) => [0x28, 0x02, ...uleb(offset)];
export const i32store8 = (offset: number) => [0x3a, 0x00, ...uleb(offset)];
export const F32_FROM_I32 = [0xb2];
export const I32_FROM_F32 = [0xa8]; // i32.trunc_f32_s
export const LOOP_START = [0x02, 0x40, 0x03, 0x40]; // block { loop {
/** br_if out of the enclosing block unless local `i` < local `n`. */
export const exitUnlessLess = (i: number, n: number) => [...get(i), ...get(n), ...LT_S, 0x45, 0x0d, 0x01];
export const LOOP_END = [0x0c, 0x00, 0x0b, 0x0b]; // br loop; } }

/** A module importing memory `e.m` and exporting `functions` (all of type (i32|f32 params) → ()). */
export function wasmModule(functions: { name: string; params: number[]; body: number[] }[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((fn) => [0x60, ...uleb(fn.params.length), ...fn.params, 0x00]);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((fn, i) => [...name(fn.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map((fn) => [...uleb(fn.body.length), ...fn.body]))),
  ];
  return new Uint8Array(bytes);
}

/** Instantiate with a fresh memory; null when this engine lacks WebAssembly (or SIMD, if used). */
export function instantiate<T>(bytes: Uint8Array<ArrayBuffer>): { memory: WebAssembly.Memory; exports: T } | null {
  try {
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: memory } });
    return { memory, exports: instance.exports as unknown as T };
  } catch {
    return null;
  }
}

/** Local declarations: runs of [count, type]. */
export const locals = (runs: [number, number][]): number[] => vec(runs.map(([n, t]) => [...uleb(n), t]));
