/**
 * The predictor's hot loop — adding 500 leaf vectors of 136 floats to the shape per cascade, one
 * float addition at a time (dlib's `current_shape += leaf`) — in WebAssembly SIMD: f32x4.add is four
 * IEEE single-precision additions, so the sums are bit-identical to dlib's and to the plain
 * JavaScript loop (used where WebAssembly SIMD is missing), about three times faster.
 *
 * The module is assembled here from its opcodes (no binary blob, no build step). In text form:
 *   (import "e" "m" (memory 1))
 *   (func (export "add_rows") (param $cur i32) (param $rows i32) (param $count i32)
 *                            (param $leaves i32) (param $rowBytes i32) (local $src i32) (local $k i32)
 *     block loop                                   ;; for each of $count row indices at $rows
 *       (br_if 1 (i32.eqz (local.get $count)))
 *       (local.set $src (i32.add (local.get $leaves) (i32.mul (i32.load (local.get $rows)) (local.get $rowBytes))))
 *       (local.set $k (i32.const 0))
 *       loop                                       ;; cur[k..k+3] += src[k..k+3]
 *         (v128.store (i32.add $cur $k) (f32x4.add (v128.load (i32.add $cur $k)) (v128.load (i32.add $src $k))))
 *         (br_if 0 (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $rowBytes)))
 *       end
 *       (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
 *       (local.set $count (i32.sub (local.get $count) (i32.const 1)))
 *       br 0
 *     end end)
 */

import { ADD, FADD, get, I32, i32c, i32load, locals, MUL, SUB, set, tee, wasmModule } from '../runtime/wasm-emit.js';

const [CUR, ROWS, COUNT, LEAVES, ROW_BYTES, SRC, K] = [0, 1, 2, 3, 4, 5, 6];
const [LT_U, EQZ] = [[0x49], [0x45]];
const I32_LOAD = i32load(0);
const V128_LOAD = [0xfd, 0x00, 0x02, 0x00]; // align 4 bytes, offset 0
const V128_STORE = [0xfd, 0x0b, 0x02, 0x00];
const [BLOCK, LOOP, END, BR, BR_IF] = [[0x02, 0x40], [0x03, 0x40], [0x0b], 0x0c, 0x0d];

function addRowsModuleBytes(): Uint8Array<ArrayBuffer> {
  // biome-ignore format: one instruction group a line, as in the text form above
  const body = [
    ...locals([[2, I32]]), // $src, $k
    ...BLOCK,
    ...LOOP,
    ...get(COUNT), ...EQZ, BR_IF, 1,
    ...get(LEAVES), ...get(ROWS), ...I32_LOAD, ...get(ROW_BYTES), ...MUL, ...ADD, ...set(SRC),
    ...i32c(0), ...set(K),
    ...LOOP,
    ...get(CUR), ...get(K), ...ADD,
    ...get(CUR), ...get(K), ...ADD, ...V128_LOAD,
    ...get(SRC), ...get(K), ...ADD, ...V128_LOAD,
    ...FADD, ...V128_STORE,
    ...get(K), ...i32c(16), ...ADD, ...tee(K), ...get(ROW_BYTES), ...LT_U, BR_IF, 0,
    ...END,
    ...get(ROWS), ...i32c(4), ...ADD, ...set(ROWS),
    ...get(COUNT), ...i32c(1), ...SUB, ...set(COUNT),
    BR, 0,
    ...END,
    ...END,
    ...END,
  ];
  return wasmModule([{ name: 'add_rows', params: [I32, I32, I32, I32, I32], body }]);
}

/** Adds rows of a float table to one float vector: vector += table[row] for each row, in order. */
export interface LeafSummer {
  /** The vector being summed into (length: the row length). */
  readonly vector: Float32Array;
  /** Row indices to add; fill the first `count` and call add(count). */
  readonly rows: Int32Array;
  add(count: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = addRowsModuleBytes();
      compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * A summer over `table` (rows of `rowLength` floats), with room for `maxRows` indices per call.
 * WebAssembly SIMD when available (the table is copied into its memory once), else plain JavaScript.
 */
export function createLeafSummer(table: Float32Array, rowLength: number, maxRows: number, useSimd = true): LeafSummer {
  const module = useSimd ? simdModule() : null;
  if (!module) return jsSummer(table, rowLength, maxRows);
  const stride = Math.ceil(rowLength / 4) * 4; // rows padded to whole 16-byte lanes
  const numRows = table.length / rowLength;
  const vectorAt = 0;
  const rowsAt = stride * 4;
  const tableAt = rowsAt + Math.ceil((maxRows * 4) / 16) * 16;
  const bytes = tableAt + numRows * stride * 4;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  const instance = new WebAssembly.Instance(module, { e: { m: memory } });
  const addRows = instance.exports.add_rows as (a: number, b: number, c: number, d: number, e: number) => void;
  const padded = new Float32Array(memory.buffer, tableAt, numRows * stride);
  if (stride === rowLength) padded.set(table);
  else for (let r = 0; r < numRows; r++) padded.set(table.subarray(r * rowLength, (r + 1) * rowLength), r * stride);
  const vector = new Float32Array(memory.buffer, vectorAt, rowLength);
  const rows = new Int32Array(memory.buffer, rowsAt, maxRows);
  return { vector, rows, add: (count) => addRows(vectorAt, rowsAt, count, tableAt, stride * 4) };
}

function jsSummer(table: Float32Array, rowLength: number, maxRows: number): LeafSummer {
  const vector = new Float32Array(rowLength);
  const rows = new Int32Array(maxRows);
  const tail = rowLength - (rowLength % 4);
  return {
    vector,
    rows,
    add(count) {
      for (let r = 0; r < count; r++) {
        const base = rows[r] * rowLength;
        let k = 0;
        // Unrolled by four: V8 runs this about 1.5× faster than the plain loop.
        for (; k < tail; k += 4) {
          const b = base + k;
          vector[k] += table[b];
          vector[k + 1] += table[b + 1];
          vector[k + 2] += table[b + 2];
          vector[k + 3] += table[b + 3];
        }
        for (; k < rowLength; k++) vector[k] += table[base + k];
      }
    },
  };
}
