/** tfjs → ONNX layer helpers shared by the face-api converters: 'same' padding, weight layouts, convolutions. */
import { type AttrValue, attr, type GraphBuilder } from './onnx-writer.js';

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
  const { kernel: k, outChannels, group = 1 } = spec;
  const inputs = [x.name, g.initializer(`${spec.name}/W`, spec.weight, [outChannels, x.channels / group, k, k])];
  if (spec.bias) inputs.push(g.initializer(`${spec.name}/B`, spec.bias, [outChannels]));
  return tfConvNode(g, x, inputs, spec);
}

/**
 * The Conv node of tfConvSame with its inputs given by name ([data, weight, bias?]), for graphs
 * whose weights are not plain float initializers (the int8 QDQ graph in ./qdq.ts).
 */
export function tfConvNode(
  g: GraphBuilder,
  x: Feature,
  inputs: readonly string[],
  spec: Omit<TfConvSpec, 'weight' | 'bias'>,
): Feature {
  const { kernel: k, stride: s, outChannels, group = 1 } = spec;
  const [top, bottom] = tfSamePads(x.height, k, s);
  const [left, right] = tfSamePads(x.width, k, s);
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
