/**
 * face-api's SSD MobileNetV1 face detector (tfjs weights) → ONNX, re-expressed op by op from
 * node_modules/@vladmandic/face-api/src/ssdMobilenetv1/{SsdMobilenetv1,mobileNetV1,pointwiseConvLayer,
 * predictionLayer,boxPredictionLayer,outputLayer}.ts.
 *
 * Graph contract (see SSD_IO in ../detect/ssd.ts, which owns it), for a nominal input size S (face-api's
 * own is 512; every layer is convolutional, so the same weights run at any size):
 *   input   [N, 3, H, W] float32, RGB, 0..255, symbolic H and W: the image padded (right/bottom,
 *           zeros) and resized the way face-api's NetInput.toBatchTensor(512, false) does — to S × S,
 *           or to a rectangle of the image's aspect (ssdInputShape in ../detect/ssd.ts). 'same'
 *           paddings are auto_pad SAME_UPPER, so the runtime applies TF's rule at every size.
 *           The graph applies face-api's own normalisation x / 127.5 - 1.
 *   boxes   [N, A, 4] raw box encodings (ty, tx, th, tw) per anchor, before decoding (A follows H, W).
 *   scores  [N, A]    sigmoid of the "face" class logit (class index 1 of 3), before NMS.
 *   anchors [A_S, 4]  the priors of the S × S input as [ymin, xmin, ymax, xmax] in the unit square; a
 *           constant. S = 512: face-api's own table (weights entry Output/extra_dim, A = 5118), bit for
 *           bit. Other sizes and shapes: ../detect/ssd-anchors.ts, the port of the TF anchor generator
 *           that produced face-api's table (reproduces it to 1.2e-7), parameterised so each anchor
 *           keeps the pixel size and cell offset the network was trained with.
 *
 * Layout: tfjs runs NHWC; ORT's CPU kernels are fastest in NCHW, so the graph is NCHW and converts
 * each prediction head back to NHWC just before its Reshape, which is where the anchor order
 * (row, column, anchor) of face-api's flattening comes from.
 */
import { SSD_INPUT_SIZE, SSD_IO } from '../detect/ssd.js';
import { generateSsdAnchors, type SsdAnchorMode, ssdAnchorCount, ssdFeatureMapSizes } from '../detect/ssd-anchors.js';
import { takeWeight, type WeightMap } from './faceapi-weights.js';
import { attr, GraphBuilder } from './onnx-writer.js';
import { QdqBuilder, type QuantRange } from './qdq.js';
import { type Feature, hwc1ToC1hw, hwioToOihw, mapFeature, type TfConvSpec, tfConvSame } from './tf-layers.js';

/** Input sizes the converter accepts (any integer in this range; face-api's own is 512). */
export const SSD_MIN_INPUT_SIZE = 64;
export const SSD_MAX_INPUT_SIZE = 1024;

export function checkSsdInputSize(inputSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < SSD_MIN_INPUT_SIZE || inputSize > SSD_MAX_INPUT_SIZE) {
    throw new RangeError(
      `SSD input size must be an integer in ${SSD_MIN_INPUT_SIZE}..${SSD_MAX_INPUT_SIZE}, got ${inputSize}`,
    );
  }
}

/** face-api's mobileNetV1.ts batch-norm epsilon (the float32 value of 1e-3). */
const BN_EPSILON = 0.0010000000474974513;

/** Depthwise layers with stride 2 (getStridesForLayerIdx in face-api's mobileNetV1.ts). */
const STRIDE2_LAYERS = new Set([2, 4, 6, 12]);

/** MobileNetV1 channel widths: conv_0 → 32, conv_k → CHANNELS[k]. */
const CHANNELS = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];

/** Extra SSD feature layers: [out channels, kernel, stride] of Prediction/Conv2d_k_pointwise. */
const PREDICTION_CONVS: [number, number, number][] = [
  [256, 1, 1],
  [512, 3, 2],
  [128, 1, 1],
  [256, 3, 2],
  [128, 1, 1],
  [256, 3, 2],
  [64, 1, 1],
  [128, 3, 2],
];

/**
 * Multiply-accumulates of one forward pass at `inputSize` (convolutions only; the elementwise
 * normalisation, clips and sigmoid are negligible). 512 → 3.22 G.
 */
export function faceApiSsdMacs(inputSize: number): number {
  let macs = 0;
  let n = inputSize;
  let c = 3;
  const conv = (cout: number, k: number, stride: number, depthwise = false) => {
    n = Math.ceil(n / stride);
    macs += n * n * k * k * (depthwise ? c : c * cout);
    if (!depthwise) c = cout;
  };
  conv(CHANNELS[0], 3, 2);
  const heads: { n: number; c: number }[] = [];
  for (let idx = 1; idx <= 13; idx++) {
    conv(c, 3, STRIDE2_LAYERS.has(idx) ? 2 : 1, true);
    conv(CHANNELS[idx], 1, 1);
    if (idx === 11 || idx === 13) heads.push({ n, c });
  }
  PREDICTION_CONVS.forEach(([cout, k, s], i) => {
    conv(cout, k, s);
    if (i % 2 === 1) heads.push({ n, c });
  });
  heads.forEach((h, i) => {
    macs += h.n * h.n * h.c * (i === 0 ? 3 : 6) * (4 + 3);
  });
  return macs;
}

/** Sum of output channel c's weights (OIHW, `cout` channels). */
function channelSum(weight: Float32Array, c: number, cout: number): number {
  const per = weight.length / cout;
  let total = 0;
  for (let i = c * per; i < (c + 1) * per; i++) total += weight[i];
  return total;
}

/**
 * The float graph (default), or one of the two graphs of the int8 build (./faceapi-ssd-int8.ts).
 * The quantized activations are the relu6 outputs ('<layer>/relu6'); conv_0 (on the pixels) and the
 * prediction heads (reading dequantized activations) keep float weights.
 */
export interface SsdGraphVariant {
  /** Calibration graph: the float graph with every activation the int8 graph quantizes as an extra output. */
  probe?: boolean;
  /** The int8 QDQ graph: uint8 activations over these ranges (by tensor name), int8 conv weights. */
  int8?: { ranges: ReadonlyMap<string, QuantRange>; reduceRange: boolean };
}

/**
 * Builds the ONNX model for a nominal input size S (default face-api's 512). The network and its
 * input shape are the same at every S (H and W are symbolic); S decides the constant anchors table
 * (for S × S) and the metadata 'ferkit.ssd.input_size' the detector uses as its default size.
 */
export function buildFaceApiSsdOnnx(
  weights: WeightMap,
  source = 'ssd_mobilenetv1_model',
  inputSize: number = SSD_INPUT_SIZE,
  anchorMode: SsdAnchorMode = 'pixel',
  variant: SsdGraphVariant = {},
): Uint8Array {
  checkSsdInputSize(inputSize);
  const numAnchors = ssdAnchorCount(inputSize);
  const g = new GraphBuilder('faceapi_ssd_mobilenetv1');
  const w = (name: string, shape: number[]) => takeWeight(weights, name, shape, source);
  const clipMin = g.float('relu6/min', 0);
  const clipMax = g.float('relu6/max', 6);
  const qdq = variant.int8 ? new QdqBuilder(g, variant.int8.reduceRange) : null;
  const probes: Feature[] = [];
  /** A tensor the int8 graph quantizes: exposed (probe) or quantized over its calibrated range (int8). */
  const activation = (x: Feature): Feature => {
    if (variant.probe) probes.push(x);
    if (qdq) {
      const range = variant.int8?.ranges.get(x.name);
      if (!range) throw new Error(`faceapi-ssd: no calibration range for ${x.name}`);
      qdq.quantize(x.name, range);
    }
    return x;
  };
  /** The step of a weight's stored uint8 grid (face-api's), per output channel scaled by `factor`. */
  const gridOf = (name: string, cout: number, factor?: (c: number) => number): Float32Array | undefined => {
    const step = weights.get(name)?.quantStep;
    return step ? Float32Array.from({ length: cout }, (_, c) => step * Math.abs(factor ? factor(c) : 1)) : undefined;
  };
  const conv = (
    x: Feature,
    spec: TfConvSpec,
    options: { floatWeights?: boolean; grid?: Float32Array } = {},
  ): Feature => (qdq ? qdq.conv(x, spec, options) : tfConvSame(g, x, spec));
  const relu6 = (x: Feature, name: string): Feature =>
    activation(mapFeature(x, g.node('Clip', [x.name, clipMin, clipMax], {}, name)));

  /** pointwiseConvLayer: conv2d(x, filters, strides, 'same') + batch_norm_offset, then clip 0..6. */
  const pointwise = (x: Feature, prefix: string, cout: number, k: number, stride: number): Feature => {
    const filters = w(`${prefix}/weights`, [k, k, x.channels, cout]);
    const offset = w(`${prefix}/convolution_bn_offset`, [cout]);
    const weight = hwioToOihw(filters, k, k, x.channels, cout);
    // int8 graph: conv_0 stays float and reads the raw pixels, the normalisation folded into it:
    // conv(x / 127.5 − 1, W) + b = conv(x, W / 127.5) + (b − ΣW). ORT's int8 conv is slow on 3
    // input channels (0.98 ms against 0.49 ms float at 320×224, plus 0.45 ms for the Div and Sub);
    // its output is quantized like every other activation. Not bit-equal where the kernel overlaps
    // the bottom/right 'same' padding: 0 after normalisation (mid-grey) in the float graph, 0 before
    // it (black, like the zero-padded canvas around the photo) here.
    const pixels = qdq !== null && x.name === SSD_IO.input;
    const spec: TfConvSpec = {
      weight: pixels ? weight.map((v) => v / 127.5) : weight,
      bias: pixels ? Float32Array.from(offset, (b, c) => b - channelSum(weight, c, cout)) : offset,
      outChannels: cout,
      kernel: k,
      stride,
      name: `${prefix}/conv`,
      dynamicPads: true,
    };
    const y = pixels ? tfConvSame(g, x, spec) : conv(x, spec, { grid: gridOf(`${prefix}/weights`, cout) });
    return relu6(y, `${prefix}/relu6`);
  };

  /**
   * depthwiseConvLayer: depthwiseConv2d 'same' → batchNorm(mean, variance, offset, scale, eps) → clip 0..6.
   * Inference batch norm is a per-channel affine map, so it is folded into the depthwise weights
   * and a bias (in float64): y = (conv(x, W) − mean)·γ/√(var+ε) + β = conv(x, W·s) + (β − mean·s).
   */
  const depthwise = (x: Feature, prefix: string, stride: number): Feature => {
    const c = x.channels;
    const filters = w(`${prefix}/depthwise_weights`, [3, 3, c, 1]);
    const gamma = w(`${prefix}/BatchNorm/gamma`, [c]);
    const beta = w(`${prefix}/BatchNorm/beta`, [c]);
    const mean = w(`${prefix}/BatchNorm/moving_mean`, [c]);
    const variance = w(`${prefix}/BatchNorm/moving_variance`, [c]);
    const weight = hwc1ToC1hw(filters, 3, 3, c);
    const bias = new Float32Array(c);
    const scales = new Float64Array(c);
    for (let i = 0; i < c; i++) {
      const s = gamma[i] / Math.sqrt(variance[i] + BN_EPSILON);
      for (let k = 0; k < 9; k++) weight[i * 9 + k] *= s;
      bias[i] = beta[i] - mean[i] * s;
      scales[i] = s;
    }
    const grid = gridOf(`${prefix}/depthwise_weights`, c, (i) => scales[i]);
    const y = conv(
      x,
      {
        weight,
        bias,
        outChannels: c,
        kernel: 3,
        stride,
        group: c,
        name: `${prefix}/conv`,
        dynamicPads: true,
      },
      { grid },
    );
    return relu6(y, `${prefix}/relu6`);
  };

  // SsdMobilenetv1.forwardInput: x / 127.5 - 1 (kept as Div then Sub, the same float ops as tfjs;
  // the int8 graph folds it into conv_0).
  const input = g.input(SSD_IO.input, ['N', 3, 'H', 'W']);
  let x: Feature = { name: input, channels: 3, height: inputSize, width: inputSize };
  if (!qdq) {
    const scaled = g.node('Div', [input, g.float('norm/scale', 127.5)], {}, 'norm/div');
    x = mapFeature(x, g.node('Sub', [scaled, g.float('norm/one', 1)], {}, 'norm/sub'));
  }

  // mobileNetV1: conv_0 (3x3, stride 2), then 13 depthwise/pointwise pairs.
  x = pointwise(x, 'MobilenetV1/Conv2d_0_pointwise', CHANNELS[0], 3, 2);
  let conv11: Feature | undefined;
  for (let idx = 1; idx <= 13; idx++) {
    x = depthwise(x, `MobilenetV1/Conv2d_${idx}_depthwise`, STRIDE2_LAYERS.has(idx) ? 2 : 1);
    x = pointwise(x, `MobilenetV1/Conv2d_${idx}_pointwise`, CHANNELS[idx], 1, 1);
    if (idx === 11) conv11 = x;
  }
  if (!conv11) throw new Error('unreachable');

  // predictionLayer: 8 extra pointwise layers on top of the backbone output.
  const extra: Feature[] = [];
  let y = x;
  PREDICTION_CONVS.forEach(([cout, k, s], i) => {
    y = pointwise(y, `Prediction/Conv2d_${i}_pointwise`, cout, k, s);
    extra.push(y);
  });
  // Box predictor k reads: conv11, backbone out, conv1, conv3, conv5, conv7 (face-api's predictionLayer.ts).
  const heads = [conv11, x, extra[1], extra[3], extra[5], extra[7]];
  const grids = ssdFeatureMapSizes(inputSize);
  heads.forEach((h, i) => {
    if (h.height !== grids[i] || h.width !== grids[i]) {
      throw new Error(`faceapi-ssd: head ${i} is ${h.height}x${h.width}, the anchor generator assumes ${grids[i]}`);
    }
  });

  const boxParts: string[] = [];
  const classParts: string[] = [];
  const boxShape = g.int64('shape/box', [0, -1, 4]);
  const classShape = g.int64('shape/class', [0, -1, 3]);
  heads.forEach((head, i) => {
    const anchorsPerCell = i === 0 ? 3 : 6;
    // boxPredictionLayer: convLayer (1x1, 'same', + bias, no activation), reshape to [N, -1, 4] / [N, -1, 3].
    const predictor = (kind: string, perAnchor: number, shape: string, out: string[]) => {
      const prefix = `Prediction/BoxPredictor_${i}/${kind}`;
      const cout = anchorsPerCell * perAnchor;
      const logits = conv(
        head,
        {
          weight: hwioToOihw(w(`${prefix}/weights`, [1, 1, head.channels, cout]), 1, 1, head.channels, cout),
          bias: w(`${prefix}/biases`, [cout]),
          outChannels: cout,
          kernel: 1,
          stride: 1,
          name: `${prefix}/conv`,
        },
        { floatWeights: true },
      );
      // NCHW → NHWC so the flattening order is tfjs' (row, column, anchor, value).
      const nhwc = g.node('Transpose', [logits.name], { perm: attr.ints([0, 2, 3, 1]) }, `${prefix}/nhwc`);
      out.push(g.node('Reshape', [nhwc, shape], {}, `${prefix}/reshape`));
    };
    predictor('BoxEncodingPredictor', 4, boxShape, boxParts);
    predictor('ClassPredictor', 3, classShape, classParts);
  });
  const axis1 = { axis: attr.int(1) };
  const boxes = g.node('Concat', boxParts, axis1, SSD_IO.boxes);
  const classes = g.node('Concat', classParts, axis1, 'class_logits');

  // outputLayer: sigmoid(classPredictions[..., 1:])[..., 0] — i.e. the sigmoid of class 1 (face).
  const faceLogit = g.node('Gather', [classes, g.int64('class/face', [1], [])], { axis: attr.int(2) });
  const scores = g.node('Sigmoid', [faceLogit], {}, SSD_IO.scores);

  // face-api's own table at its own size (bit-exact parity); generated priors for any other size
  // ('pixel': keeping each anchor's trained pixel geometry, see ssd-anchors.ts).
  const shipped = w('Output/extra_dim', [1, 5118, 4]);
  const priors = inputSize === 512 ? shipped : generateSsdAnchors(inputSize, anchorMode);
  const anchorsInit = g.initializer('Output/extra_dim', priors, [numAnchors, 4]);
  const anchors = g.node('Identity', [anchorsInit], {}, SSD_IO.anchors);

  g.output(boxes, ['N', 'A', 4]);
  g.output(scores, ['N', 'A']);
  g.output(anchors, [numAnchors, 4]);
  probes.forEach((p, i) => {
    g.output(p.name, ['N', p.channels, `probe${i}_h`, `probe${i}_w`]);
  });
  return g.toModel({
    producerName: 'ferkit',
    docString: `face-api SSD MobileNetV1 face detector${qdq ? ' (int8 QDQ, src/convert/faceapi-ssd-int8.ts)' : ''}, nominal input ${inputSize}x${inputSize} (any H x W runs), converted from tfjs weights by ferkit (src/convert/faceapi-ssd.ts)`,
    opset: 13,
    metadata: {
      'ferkit.ssd.input_size': String(inputSize),
      'ferkit.ssd.anchors':
        inputSize === 512 ? 'face-api Output/extra_dim' : `generated, ${anchorMode} mode (src/detect/ssd-anchors.ts)`,
    },
  });
}
