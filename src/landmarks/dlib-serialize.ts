/**
 * A reader for dlib's binary serialization format (dlib/serialize.h, dlib/float_details.h), as much
 * of it as dlib's shape_predictor files use. Host-free: works on the file's bytes.
 *
 *  - Integers (ser_helper::pack_int): one control byte, then that many little-endian magnitude bytes.
 *    Signed types: control = size | 0x80 when negative (size = control & 0x0F). Unsigned types: dlib
 *    masks the control with 0x8F, so a set 0x80 bit makes the size invalid. Size 0 or > 8 is an error.
 *  - Floating point (serialize_floating_point): a float_details pair — int64 mantissa then int16
 *    exponent, both as signed integers above — meaning mantissa·2^exponent, except exponent 32000 /
 *    32001 / 32002 = +∞ / −∞ / NaN. dlib converts it with std::ldexp((float)mantissa, exponent).
 *    (dlib's older ASCII float format, recognised by a first byte with bits 0x70 set, is refused.)
 *  - std::vector: the size as an unsigned long, then the elements.
 *  - dlib::matrix: rows then columns as signed longs (negated in the newer format), then the
 *    elements row by row.
 * Any malformed or truncated value is FerkitError('E_MODEL') naming the source and the byte offset.
 */
import { FerkitError } from '../errors.js';

const IS_INF = 32000;
const IS_NINF = 32001;

/** 2^e for the exponents floats use, looked up rather than computed per value. */
const POW2_MIN = -1100;
const POW2 = Float64Array.from({ length: 2201 }, (_, i) => 2 ** (i + POW2_MIN));

export class DlibReader {
  /** Offset of the next unread byte. */
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Names the file in error messages. */
    readonly source: string,
  ) {}

  fail(what: string, at = this.pos): never {
    const why = at >= this.bytes.length ? 'file is truncated' : 'malformed data';
    throw new FerkitError(
      'E_MODEL',
      `${this.source}: not a valid dlib shape_predictor file (${why} at byte ${at} while reading ${what})`,
    );
  }

  /** An integer of a signed C++ type (int, long, int64, int16). */
  signed(what: string): number {
    const b = this.bytes;
    const at = this.pos;
    if (at >= b.length) this.fail(what, at);
    const control = b[at];
    const size = control & 0x0f;
    if (size === 0 || size > 8 || at + 1 + size > b.length) this.fail(what, at);
    let value = 0;
    for (let i = size; i >= 1; i--) value = value * 256 + b[at + i];
    this.pos = at + 1 + size;
    return control & 0x80 ? -value : value;
  }

  /** An integer of an unsigned C++ type (unsigned long). */
  unsigned(what: string): number {
    const b = this.bytes;
    const at = this.pos;
    if (at >= b.length) this.fail(what, at);
    const size = b[at] & 0x8f; // dlib masks out the three reserved bits; 0x80 left set means invalid
    if (size === 0 || size > 8 || at + 1 + size > b.length) this.fail(what, at);
    let value = 0;
    for (let i = size; i >= 1; i--) value = value * 256 + b[at + i];
    this.pos = at + 1 + size;
    return value;
  }

  /** A float (dlib's float_details), rounded to single precision as `float x; deserialize(x, in)` does. */
  float(what: string): number {
    const b = this.bytes;
    if (this.pos < b.length && (b[this.pos] & 0x70) !== 0) this.fail(`${what} (old ASCII float format)`);
    const mantissa = this.signed(what);
    const exponent = this.signed(what);
    if (exponent < IS_INF) {
      const e = exponent - POW2_MIN;
      return Math.fround(mantissa * (e >= 0 && e < POW2.length ? POW2[e] : 2 ** exponent));
    }
    if (exponent === IS_INF) return Number.POSITIVE_INFINITY;
    if (exponent === IS_NINF) return Number.NEGATIVE_INFINITY;
    return Number.NaN;
  }

  /** A column vector `matrix<float,0,1>` of exactly `length` elements (or any length when omitted). */
  floatColumn(what: string, out?: Float32Array, offset = 0, length?: number): Float32Array {
    const at = this.pos;
    const rows = Math.abs(this.signed(what));
    const cols = Math.abs(this.signed(what));
    if (cols !== 1 || (length !== undefined && rows !== length) || rows > (this.bytes.length - this.pos) >> 2) {
      this.fail(`${what}: a ${rows}x${cols} matrix where a ${length ?? 'N'}x1 column was expected`, at);
    }
    const target = out ?? new Float32Array(rows);
    // Fast path for the ~16 million leaf values: float_details decoded inline while at least 18
    // bytes (the longest encoding) remain; anything unusual goes through float() for its checks.
    const b = this.bytes;
    const safeEnd = b.length - 18;
    let p = this.pos;
    let i = 0;
    for (; i < rows && p <= safeEnd; i++) {
      const c0 = b[p];
      const n0 = c0 & 0x0f;
      if (c0 & 0x70 || n0 === 0 || n0 > 6) break; // old format, invalid, or a mantissa past 2^48
      let mantissa = 0;
      for (let k = p + n0; k > p; k--) mantissa = mantissa * 256 + b[k];
      p += n0 + 1;
      const c1 = b[p];
      const n1 = c1 & 0x0f;
      if (n1 === 0 || n1 > 2) {
        p -= n0 + 1;
        break;
      }
      let exponent = n1 === 1 ? b[p + 1] : b[p + 1] + 256 * b[p + 2];
      if (exponent >= IS_INF) {
        p -= n0 + 1;
        break;
      }
      p += n1 + 1;
      if (c1 & 0x80) exponent = -exponent;
      const e = exponent - POW2_MIN;
      target[offset + i] = (c0 & 0x80 ? -mantissa : mantissa) * (e >= 0 && e < POW2.length ? POW2[e] : 2 ** exponent);
    }
    this.pos = p;
    for (; i < rows; i++) target[offset + i] = this.float(what);
    return target;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.pos === this.bytes.length;
  }
}
