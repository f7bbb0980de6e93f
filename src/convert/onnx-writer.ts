/**
 * A small, dependency-free ONNX protobuf encoder plus a graph builder for writing converters (the
 * wire format in protobuf.ts, tfjs layer helpers in tf-layers.ts).
 *
 * Why hand-written: ferkit only ever *writes* a handful of ONNX message types (model, graph, node,
 * attribute, tensor, value info), and the protobuf wire format for those is tiny: varints,
 * little-endian fixed32 floats and length-delimited sub-messages. Encoding them here keeps the
 * converter free of a schema compiler and of any runtime dependency.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8). Repeated scalars are written packed, which
 * every conforming protobuf parser (ORT's included) accepts for proto2 repeated fields.
 */
import { ProtoWriter } from './protobuf.js';

// ---------------------------------------------------------------------------------------------
// ONNX messages

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
/** Initializer payloads: float32 weights, int8/uint8 quantized weights and zero points, int32 biases, int64 shapes. */
export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

function tensorType(data: TensorData): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int8Array) return DataType.INT8;
  return data instanceof Int32Array ? DataType.INT32 : DataType.INT64;
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] };

/** Tagged attribute constructors: ONNX distinguishes INT from FLOAT, so a bare JS number would be ambiguous. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
};

const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function encodeAttribute(w: ProtoWriter, name: string, a: AttrValue): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
  w.int(20, ATTR_TYPE[a.kind]);
}

function encodeTensor(w: ProtoWriter, name: string, data: TensorData, dims: readonly number[]): void {
  w.packedInts(1, dims);
  w.int(2, tensorType(data));
  w.string(8, name);
  if (data instanceof Uint8Array || data instanceof Int8Array) {
    w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  // raw_data is little-endian; copy through a DataView so big-endian hosts would also be right.
  const raw = new Uint8Array(data.byteLength);
  const dv = new DataView(raw.buffer);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  else if (data instanceof Int32Array) for (let i = 0; i < data.length; i++) dv.setInt32(i * 4, data[i], true);
  else for (let i = 0; i < data.length; i++) dv.setBigInt64(i * 8, data[i], true);
  w.bytes(9, raw);
}

/** A dimension is fixed (number) or symbolic (string → dim_param, e.g. a dynamic batch 'N'). */
export type Dim = number | string;

function encodeValueInfo(w: ProtoWriter, name: string, elemType: number, dims: readonly Dim[]): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, elemType);
      tensor.message(2, (shape) => {
        for (const d of dims) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Graph builder

interface NodeSpec {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface ModelOptions {
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Default-domain opset; 13 is the floor (Clip/Reshape/Gather take their parameters as inputs). */
  opset?: number;
  metadata?: Record<string, string>;
}

/**
 * Builds one ONNX graph. Converters add initializers and nodes in topological order; every
 * `node()` call returns the name of its (first) output, so a network reads as a chain of calls.
 */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits = new Map<string, { data: TensorData; dims: number[] }>();
  private readonly inputs: { name: string; dims: Dim[] }[] = [];
  private readonly outputs: { name: string; dims: Dim[] }[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private unique(base: string): string {
    let n = base;
    while (this.used.has(n)) n = `${base}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  /** A float32 graph input. */
  input(name: string, dims: readonly Dim[]): string {
    const n = this.unique(name);
    this.inputs.push({ name: n, dims: [...dims] });
    return n;
  }

  /** Declares a float32 graph output; `value` is a tensor name produced by some node. */
  output(value: string, dims: readonly Dim[]): void {
    if (!this.used.has(value)) throw new Error(`onnx-writer: output ${value} is not produced by the graph`);
    this.outputs.push({ name: value, dims: [...dims] });
  }

  /** Adds a constant tensor; returns its (unique) name. */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length)
      throw new Error(`onnx-writer: initializer ${name} has ${data.length} values, dims ${dims}`);
    const n = this.unique(name);
    this.inits.set(n, { data, dims: [...dims] });
    return n;
  }

  /** int64 constant, e.g. a Reshape target shape or Gather indices. */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(
      name,
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
  }

  /** float32 scalar (dims []) or vector constant. */
  float(name: string, values: number | readonly number[], dims?: readonly number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    return this.initializer(name, Float32Array.from(arr), dims ?? (typeof values === 'number' ? [] : [arr.length]));
  }

  /** Adds a node with one output; returns the output's name (`<name>` or `<opType>_<k>`). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, name?: string): string {
    return this.nodeMulti(opType, inputs, 1, attrs, name)[0];
  }

  /** Adds a node with `outputCount` outputs; returns their names. */
  nodeMulti(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attrs: Record<string, AttrValue> = {},
    name?: string,
  ): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.used.has(i)) throw new Error(`onnx-writer: ${opType} input ${i} is not defined yet`);
    }
    const nodeName = this.unique(name ?? `${opType}_${this.nodes.length}`);
    const outputs = Array.from({ length: outputCount }, (_, k) =>
      outputCount === 1 ? nodeName : this.unique(`${nodeName}:${k}`),
    );
    this.nodes.push({ opType, name: nodeName, inputs: [...inputs], outputs, attrs });
    return outputs;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Serialises a ModelProto (ir_version 8) holding this graph. */
  toModel(options: ModelOptions = {}): Uint8Array {
    const opset = options.opset ?? 13;
    if (opset < 13) throw new Error('onnx-writer: opset must be 13 or higher');
    const w = new ProtoWriter();
    w.int(1, 8); // ir_version
    w.string(2, options.producerName ?? 'ferkit');
    if (options.producerVersion) w.string(3, options.producerVersion);
    if (options.docString) w.string(6, options.docString);
    w.message(7, (g) => this.encodeGraph(g));
    w.message(8, (o) => {
      o.string(1, '');
      o.int(2, opset);
    });
    for (const [key, value] of Object.entries(options.metadata ?? {})) {
      w.message(14, (e) => {
        e.string(1, key);
        e.string(2, value);
      });
    }
    return w.finish();
  }

  private encodeGraph(g: ProtoWriter): void {
    for (const n of this.nodes) {
      g.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        nw.string(3, n.name);
        nw.string(4, n.opType);
        for (const [k, a] of Object.entries(n.attrs)) nw.message(5, (aw) => encodeAttribute(aw, k, a));
      });
    }
    g.string(2, this.name);
    for (const [name, t] of this.inits) g.message(5, (tw) => encodeTensor(tw, name, t.data, t.dims));
    for (const i of this.inputs) g.message(11, (vw) => encodeValueInfo(vw, i.name, DataType.FLOAT, i.dims));
    for (const o of this.outputs) g.message(12, (vw) => encodeValueInfo(vw, o.name, DataType.FLOAT, o.dims));
  }
}
