/**
 * A small, dependency-free ONNX protobuf encoder plus a graph builder for writing converters.
 *
 * Why hand-written: ferkit only ever *writes* a handful of ONNX message types (model, graph, node,
 * attribute, tensor, value info), and the protobuf wire format for those is tiny: varints,
 * little-endian fixed32 floats and length-delimited sub-messages. Encoding them here keeps the
 * converter free of a schema compiler and of any runtime dependency.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8). Repeated scalars are written packed, which
 * every conforming protobuf parser (ORT's included) accepts for proto2 repeated fields.
 */

// ---------------------------------------------------------------------------------------------
// Wire format

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

/** Appends protobuf fields to a growable list of chunks; `finish()` concatenates them once. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }

  /** Unsigned or negative int64 as a varint; negatives take 10 bytes (two's complement), as protobuf requires. */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    if (typeof value === 'number' && value >= 0 && value < 2 ** 31) {
      let n = value;
      while (n > 0x7f) {
        this.scratch.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.scratch.push(n);
      return;
    }
    while (v > 0x7fn) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(data.length);
    this.flushScratch();
    this.chunks.push(data);
    this.length += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, textEncoder.encode(s));
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
  }

  packedInts(field: number, values: readonly (number | bigint)[]): void {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): void {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    this.bytes(field, b);
  }

  message(field: number, encode: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    encode(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX messages

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
type TensorData = Float32Array | Int32Array | BigInt64Array;

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
  const type =
    data instanceof Float32Array ? DataType.FLOAT : data instanceof Int32Array ? DataType.INT32 : DataType.INT64;
  w.int(2, type);
  w.string(8, name);
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

// ---------------------------------------------------------------------------------------------
// tfjs → ONNX layer helpers (shared by the face-api converters)

/** A 4-D NCHW feature map in the graph, with its static spatial size (batch stays dynamic). */
export interface Feature {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/**
 * TensorFlow's 'same' padding along one axis, as [begin, end].
 *
 * TF makes the output ceil(in / stride) long and needs `total = max((out-1)·stride + k - in, 0)`
 * padding, putting floor(total/2) before and the REST AFTER. With stride 2 on an even size (a 3x3
 * conv on 512 → 256) total is 1, so TF pads 0 before and 1 after. ONNX's symmetric explicit pads
 * cannot express "same" in general, and using [1,1] would shift every stride-2 feature map by one
 * pixel (the detector still "works" but boxes drift). So we compute TF's asymmetric pads from the
 * static input size and write them explicitly; this is also what auto_pad=SAME_UPPER means, but
 * explicit pads keep the graph self-describing and independent of runtime auto_pad quirks.
 */
export function tfSamePads(inSize: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** tfjs conv2d filter [kh, kw, cin, cout] → ONNX Conv weight [cout, cin, kh, kw]. */
export function hwioToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = w[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/** tfjs depthwise filter [kh, kw, c, 1] → ONNX grouped Conv weight [c, 1, kh, kw] (group = c). */
export function hwc1ToC1hw(w: Float32Array, kh: number, kw: number, c: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) out[(i * kh + y) * kw + x] = w[(y * kw + x) * c + i];
  return out;
}

export interface TfConvSpec {
  /** Weight already in ONNX layout: [cout, cin/group, kh, kw]. */
  weight: Float32Array;
  bias?: Float32Array;
  outChannels: number;
  kernel: number;
  stride: number;
  /** 1 for a normal conv; `channels` for a depthwise conv. */
  group?: number;
  name: string;
  /**
   * For graphs with symbolic spatial sizes: auto_pad SAME_UPPER (the runtime derives the pads from
   * the actual input, exactly TF's rule: the odd pixel goes bottom/right) instead of explicit pads
   * computed from `x`'s nominal size. Identical results at the nominal size.
   */
  dynamicPads?: boolean;
}

/** tf.conv2d / tf.depthwiseConv2d with padding 'same' (TF's asymmetric pads; see tfSamePads). */
export function tfConvSame(g: GraphBuilder, x: Feature, spec: TfConvSpec): Feature {
  const { kernel: k, stride: s, outChannels, group = 1 } = spec;
  const [top, bottom] = tfSamePads(x.height, k, s);
  const [left, right] = tfSamePads(x.width, k, s);
  const inputs = [x.name, g.initializer(`${spec.name}/W`, spec.weight, [outChannels, x.channels / group, k, k])];
  if (spec.bias) inputs.push(g.initializer(`${spec.name}/B`, spec.bias, [outChannels]));
  const attrs: Record<string, AttrValue> = {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([s, s]),
  };
  if (spec.dynamicPads && k > 1) attrs.auto_pad = attr.string('SAME_UPPER');
  else attrs.pads = attr.ints([top, left, bottom, right]);
  if (group !== 1) attrs.group = attr.int(group);
  return {
    name: g.node('Conv', inputs, attrs, spec.name),
    channels: outChannels,
    height: Math.ceil(x.height / s),
    width: Math.ceil(x.width / s),
  };
}

/** Same feature map after an elementwise op (shape unchanged). */
export function mapFeature(x: Feature, name: string): Feature {
  return { ...x, name };
}
