/**
 * Facts read straight from ONNX model bytes (the ModelProto protobuf), host-neutral and without an
 * ONNX library: a graph input's declared shape, and the model's metadata_props.
 */

type Field = { no: number; wire: number; value: number; start: number; end: number };

/** The fields of one protobuf message in buf[start, end); null when it does not parse. */
function protoFields(buf: Uint8Array, start: number, end: number): Field[] | null {
  const out: Field[] = [];
  let p = start;
  const varint = (): number | null => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) return null;
      const b = buf[p++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
    return null;
  };
  while (p < end) {
    const key = varint();
    if (key === null) return null;
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const v = varint();
      if (v === null) return null;
      out.push({ no, wire, value: v, start: p, end: p });
    } else if (wire === 2) {
      const len = varint();
      if (len === null || p + len > end) return null;
      out.push({ no, wire, value: len, start: p, end: p + len });
      p += len;
    } else if (wire === 1 || wire === 5) {
      p += wire === 1 ? 8 : 4;
      if (p > end) return null;
    } else {
      return null;
    }
  }
  return out;
}

const sub = (buf: Uint8Array, f: Field) => protoFields(buf, f.start, f.end);
const text = (buf: Uint8Array, f: Field) => new TextDecoder().decode(buf.subarray(f.start, f.end));

/** ModelProto.graph (field 7), or null. */
function graphOf(model: Uint8Array): Field | null {
  return protoFields(model, 0, model.length)?.find((f) => f.no === 7 && f.wire === 2) ?? null;
}

/**
 * The declared shape of graph input `inputName` in an ONNX model (ModelProto.graph.input): numbers
 * for fixed dimensions, strings for symbolic ones. null when the bytes are not a parsable model or
 * have no such input.
 */
export function onnxInputShape(model: Uint8Array, inputName: string): (number | string)[] | null {
  const graph = graphOf(model);
  if (!graph) return null;
  for (const f of sub(model, graph) ?? []) {
    if (f.no !== 11 || f.wire !== 2) continue; // ValueInfoProto input
    const info = sub(model, f);
    const name = info?.find((x) => x.no === 1 && x.wire === 2);
    if (!info || !name || text(model, name) !== inputName) continue;
    const type = info.find((x) => x.no === 2 && x.wire === 2);
    const tensor = type && sub(model, type)?.find((x) => x.no === 1 && x.wire === 2);
    const shape = tensor && sub(model, tensor)?.find((x) => x.no === 2 && x.wire === 2);
    if (!shape) return null;
    const dims: (number | string)[] = [];
    for (const d of sub(model, shape) ?? []) {
      if (d.no !== 1 || d.wire !== 2) continue;
      const dim = sub(model, d) ?? [];
      const value = dim.find((x) => x.no === 1 && x.wire === 0);
      const param = dim.find((x) => x.no === 2 && x.wire === 2);
      dims.push(value ? value.value : param ? text(model, param) : '?');
    }
    return dims;
  }
  return null;
}

/** ModelProto.metadata_props (field 14) as a record; empty when there are none or the bytes do not parse. */
export function onnxMetadata(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of protoFields(model, 0, model.length) ?? []) {
    if (f.no !== 14 || f.wire !== 2) continue;
    const entry = sub(model, f) ?? [];
    const key = entry.find((x) => x.no === 1 && x.wire === 2);
    const value = entry.find((x) => x.no === 2 && x.wire === 2);
    if (key) out[text(model, key)] = value ? text(model, value) : '';
  }
  return out;
}

/**
 * The input contract of a fully convolutional image model with input [N, C, H, W]: `declared` is S
 * when the graph fixes a square S × S, `dynamic` is true when H and W are symbolic (any size runs),
 * and `nominal` is the size recorded in the metadata entry `sizeKey` (ferkit's converters write it).
 */
export function imageInputContract(
  model: Uint8Array,
  inputName: string,
  sizeKey: string,
): { shape: (number | string)[] | null; declared: number | null; dynamic: boolean; nominal: number | undefined } {
  const shape = onnxInputShape(model, inputName);
  const four = shape !== null && shape.length === 4;
  const declared = four && typeof shape[2] === 'number' && shape[2] === shape[3] ? shape[2] : null;
  const dynamic = four && typeof shape[2] === 'string' && typeof shape[3] === 'string';
  const nominal = Number(onnxMetadata(model)[sizeKey]) || undefined;
  return { shape, declared, dynamic, nominal };
}
