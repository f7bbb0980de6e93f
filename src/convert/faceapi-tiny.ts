/**
 * face-api's TinyFaceDetector (tfjs weights) → ONNX, re-expressed op by op from
 * node_modules/@vladmandic/face-api/src/tinyFaceDetector/{TinyFaceDetector,const}.ts and
 * src/tinyYolov2/{TinyYolov2Base,depthwiseSeparableConv,leaky,extractParamsFromWeightMap}.ts.
 *
 * TinyFaceDetector is TinyYolov2Base with withSeparableConvs, isFirstLayerConv2d and filter sizes
 * [3, 16, 32, 64, 128, 256, 512] (so no conv6/conv7), run by runMobilenet():
 *   conv0  3x3 conv, 'valid' (NO padding: S → S−2), + bias, leaky
 *   maxPool 2x2 / 2 'same'
 *   conv1..conv5  depthwiseSeparableConv: pad 1, 3x3 depthwise + 1x1 pointwise ('valid'), + bias, leaky,
 *                 each followed by maxPool 2x2 'same', stride 2 after conv1..conv4 and stride 1 after conv5
 *   conv8  1x1 conv, + bias, no activation → [G, G, 5 · 5], G = S/32
 * leaky(x) is relu(x − 0.1x) + 0.1x, i.e. LeakyRelu(alpha 0.1). TF's 'same' max pools pad at the end
 * only (0 before, 1 after on odd sizes): auto_pad SAME_UPPER, the same rule at any input size.
 *
 * Graph contract (TINY_IO in ../detect/tiny.ts, which owns it), for a nominal input size S (multiple
 * of 32, recorded as metadata 'ferkit.tiny.input_size'; the network is fully convolutional, so H and W
 * are symbolic and any multiples of 32 run with the same weights):
 *   input  [N, 3, H, W] float32, RGB, 0..255, the image zero-padded right/bottom and resized as
 *          NetInput.toBatchTensor(S, false) does (a square), or at its own aspect ratio ('fit'). The
 *          graph applies face-api's normalisation (x − [117.001, 114.697, 97.404]) / 255.
 *   grid   [N, H/32, W/32, 5, 5] the raw head, in face-api's own order (row, column, anchor,
 *          [tx, ty, tw, th, objectness]) — the reshape of extractBoxes; decoding (sigmoid/exp,
 *          anchors, NMS) is decodeTinyOutput() in TypeScript.
 * Layout: the graph is NCHW (ORT's CPU kernels' native layout) and transposes the head to NHWC at the end.
 */
import {
  checkTinyInputSize,
  TINY_ANCHORS,
  TINY_BOX_ENCODING,
  TINY_DEFAULT_INPUT_SIZE,
  TINY_IO,
  TINY_MEAN_RGB,
  tinyGridSize,
} from '../detect/tiny.js';
import { FerkitError } from '../errors.js';
import { faceApiSeparableConv } from './faceapi-layers.js';
import { takeWeight, type WeightMap } from './faceapi-weights.js';
import { convertModel, type ModelCard, type ModelCardBody, type ModelFiles, type ModelSpec } from './model-cache.js';
import { attr, GraphBuilder } from './onnx-writer.js';
import { type Feature, hwioToOihw, mapFeature, tfConvSame } from './tf-layers.js';

/** Bump when this converter's output changes (recorded in its cards; cached models are rebuilt). */
export const TINY_CONVERTER_VERSION = 2; // 2: symbolic H × W input (aspect-ratio 'fit' inputs)
export const TINY_MANIFEST = 'tiny_face_detector_model-weights_manifest.json';
export const TINY_CONVERTER_FILE = 'src/convert/faceapi-tiny.ts';

/** Channel widths: conv0 → 16, conv1..conv5 → 32..512 (TinyFaceDetector's filterSizes). */
const CHANNELS = [16, 32, 64, 128, 256, 512];
/** Stride of the 2x2 max pool after conv0..conv5. */
const POOL_STRIDES = [2, 2, 2, 2, 2, 1];

/** face-api's leaky(): relu(x − 0.1·x) + 0.1·x with 0.1 as float32. */
const LEAKY_ALPHA = 0.10000000149011612;

/** File name of the tiny detector model for one input size. */
export function tinyModelFile(inputSize: number): string {
  return `tiny_face_detector_${inputSize}.onnx`;
}

/** Multiply-accumulates of one forward pass at `inputSize` (convolutions only). 416 → 0.20 G. */
export function tinyFaceDetectorMacs(inputSize: number): number {
  let n = inputSize - 2; // conv0 'valid'
  let macs = n * n * 9 * 3 * CHANNELS[0];
  n = Math.ceil(n / POOL_STRIDES[0]);
  for (let i = 1; i < CHANNELS.length; i++) {
    macs += n * n * (9 * CHANNELS[i - 1] + CHANNELS[i - 1] * CHANNELS[i]);
    n = Math.ceil(n / POOL_STRIDES[i]);
  }
  return macs + n * n * CHANNELS[CHANNELS.length - 1] * TINY_ANCHORS.length * TINY_BOX_ENCODING;
}

/**
 * Builds the ONNX model (opset 13) for one square input size (default TINY_DEFAULT_INPUT_SIZE).
 * A weights file that parses but is not TinyFaceDetector's throws FerkitError('E_MODEL').
 */
export function buildTinyFaceDetectorOnnx(
  weights: WeightMap,
  inputSize: number = TINY_DEFAULT_INPUT_SIZE,
  source = 'tiny_face_detector_model',
): Uint8Array {
  checkTinyInputSize(inputSize);
  const g = new GraphBuilder('faceapi_tiny_face_detector');
  const w = (name: string, shape: number[]) => takeWeight(weights, name, shape, source);
  const leaky = (x: Feature, name: string): Feature =>
    mapFeature(x, g.node('LeakyRelu', [x.name], { alpha: attr.float(LEAKY_ALPHA) }, name));

  /** tf.maxPool(x, [2, 2], [s, s], 'same'): TF pads only at the end; padding never wins a max. */
  const maxPool = (x: Feature, stride: number, name: string): Feature => {
    // auto_pad SAME_UPPER is TF's 'same' (extra padding at the end) evaluated on the actual size:
    // the graph's H × W are symbolic.
    const y = g.node(
      'MaxPool',
      [x.name],
      { kernel_shape: attr.ints([2, 2]), strides: attr.ints([stride, stride]), auto_pad: attr.string('SAME_UPPER') },
      name,
    );
    return { name: y, channels: x.channels, height: Math.ceil(x.height / stride), width: Math.ceil(x.width / stride) };
  };

  /**
   * depthwiseSeparableConv: pad 1, separableConv2d(depthwise, pointwise, 'valid') + bias, leaky.
   * Symmetric pad 1 + 3x3 'valid' is the same as TF 'same' at stride 1, so the shared 'same' layer
   * (faceApiSeparableConv, through tfConvSame) writes pads [1,1,1,1].
   */
  const separable = (x: Feature, prefix: string, cout: number): Feature =>
    leaky(faceApiSeparableConv(g, w, x, prefix, cout, 1), `${prefix}/leaky`);

  const S = inputSize;
  const input = g.input(TINY_IO.input, ['N', 3, 'H', 'W']);
  // forwardInput: normalize(x, meanRgb) then div(255), in that order (the same float ops as tfjs).
  const centred = g.node('Sub', [input, g.float('norm/mean', [...TINY_MEAN_RGB], [1, 3, 1, 1])], {}, 'norm/sub');
  const normalised = g.node('Div', [centred, g.float('norm/scale', 255)], {}, 'norm/div');

  // conv0: convLayer(x, conv0, 'valid') — a plain 3x3 conv with no padding, then leaky.
  const c0 = CHANNELS[0];
  const conv0 = g.node(
    'Conv',
    [
      normalised,
      g.initializer('conv0/W', hwioToOihw(w('conv0/filters', [3, 3, 3, c0]), 3, 3, 3, c0), [c0, 3, 3, 3]),
      g.initializer('conv0/B', w('conv0/bias', [c0]), [c0]),
    ],
    { kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]), pads: attr.ints([0, 0, 0, 0]) },
    'conv0/conv',
  );
  let x: Feature = leaky({ name: conv0, channels: c0, height: S - 2, width: S - 2 }, 'conv0/leaky');
  x = maxPool(x, POOL_STRIDES[0], 'pool0');
  for (let i = 1; i < CHANNELS.length; i++) {
    x = separable(x, `conv${i}`, CHANNELS[i]);
    x = maxPool(x, POOL_STRIDES[i], `pool${i}`);
  }
  const grid = tinyGridSize(S);
  if (x.height !== grid || x.width !== grid) {
    throw new Error(`faceapi-tiny: backbone output is ${x.height}x${x.width}, expected ${grid}x${grid}`);
  }
  // conv8: convLayer(out, conv8, 'valid', false): 1x1 conv + bias, no activation.
  const cin = x.channels;
  const cout = TINY_ANCHORS.length * TINY_BOX_ENCODING;
  const head = tfConvSame(g, x, {
    weight: hwioToOihw(w('conv8/filters', [1, 1, cin, cout]), 1, 1, cin, cout),
    bias: w('conv8/bias', [cout]),
    outChannels: cout,
    kernel: 1,
    stride: 1,
    name: 'conv8/conv',
  });
  // NCHW → NHWC, then extractBoxes' reshape [G_h, G_w, anchors, 5] (0: batch and grid sizes kept).
  const nhwc = g.node('Transpose', [head.name], { perm: attr.ints([0, 2, 3, 1]) }, 'head/nhwc');
  const out = g.node(
    'Reshape',
    [nhwc, g.int64('head/shape', [0, 0, 0, TINY_ANCHORS.length, TINY_BOX_ENCODING])],
    {},
    TINY_IO.output,
  );
  g.output(out, ['N', 'GH', 'GW', TINY_ANCHORS.length, TINY_BOX_ENCODING]);
  return g.toModel({
    producerName: 'ferkit',
    docString: `face-api TinyFaceDetector, nominal input ${S}x${S} (any H x W, multiples of 32, runs), converted from tfjs weights by ferkit (${TINY_CONVERTER_FILE})`,
    opset: 13,
    metadata: {
      'ferkit.tiny.input_size': String(S),
      'ferkit.tiny.anchors': JSON.stringify(TINY_ANCHORS),
    },
  });
}

/** Model id for one input size. */
export function tinyModelId(inputSize: number): string {
  return `faceapi-tiny-face-detector-${inputSize}`;
}

/** Card body for the tiny detector at one input size (same style as src/convert/main.ts's cards). */
export function tinyFaceDetectorCard(inputSize: number): ModelCardBody {
  checkTinyInputSize(inputSize);
  const S = inputSize;
  const G = tinyGridSize(S);
  return {
    description:
      `face-api's TinyFaceDetector (depthwise-separable backbone, YOLOv2 head with 5 face anchors) at ${S}x${S} input, ` +
      `${(tinyFaceDetectorMacs(S) / 1e9).toFixed(2)} G multiply-adds`,
    license: 'MIT (weights from @vladmandic/face-api / justadudewhohacks/face-api.js)',
    input: {
      name: TINY_IO.input,
      shape: ['N', 3, 'H', 'W'],
      dtype: 'float32',
      layout: 'NCHW',
      channelOrder: 'RGB',
      pixelRange: [0, 255],
      inputSize: S,
      normalisationInGraph: `(x - [${TINY_MEAN_RGB}]) / 255`,
      preprocessing:
        `the longer side scaled to ${S} and the shorter one padded to a multiple of 32 ('fit', default), or face-api's ` +
        `square: zero-pad the image on the right or bottom (not centred), then bilinear-resize to ${S}x${S} ` +
        'with TF legacy sampling (align_corners=false, half_pixel_centers=false): createTinyFaceDetector().detect in src/detect/tiny.ts',
    },
    outputs: [
      {
        name: TINY_IO.output,
        shape: ['N', 'H/32', 'W/32', TINY_ANCHORS.length, TINY_BOX_ENCODING],
        description:
          'raw YOLOv2 head per (row, column, anchor): [tx, ty, tw, th, objectness] logits; ' +
          `anchors (w, h) in cells: ${JSON.stringify(TINY_ANCHORS)}`,
      },
    ],
    postprocessing:
      `score = sigmoid(objectness) > threshold; centre = (cell + sigmoid(txy)) / G, size = exp(twh) * anchor / G per axis ` +
      `(G = ${G} at ${S}x${S}), mapped onto the padded canvas; greedy NMS IoU 0.4; * image size (no clipping): ` +
      'decodeTinyOutput() in src/detect/tiny.ts',
  };
}

/** The tiny detector at one input size, for the model cache (ensureFaceApiModels' `tinySizes`). */
export function tinySpec(inputSize: number): ModelSpec {
  return {
    id: tinyModelId(inputSize),
    file: tinyModelFile(inputSize),
    manifest: TINY_MANIFEST,
    converterFile: TINY_CONVERTER_FILE,
    converterVersion: TINY_CONVERTER_VERSION,
    build: (weights, source) => buildTinyFaceDetectorOnnx(weights, inputSize, source),
    card: tinyFaceDetectorCard(inputSize),
  };
}

/**
 * Converts `<sourceDir>/tiny_face_detector_model-weights_manifest.json` (+ .bin) into
 * `<outDir>/tiny_face_detector_<S>.onnx` and its card `<outDir>/tiny_face_detector_<S>.json`
 * (model first, card last, each written atomically). Always converts (no up-to-date check; the
 * caching lives in ensureFaceApiModels, `tinySizes`). Missing/corrupt weights → FerkitError('E_MODEL');
 * a bad size → FerkitError('E_INPUT').
 */
export async function convertTinyFaceDetector(
  sourceDir: string,
  outDir: string,
  inputSize: number = TINY_DEFAULT_INPUT_SIZE,
): Promise<ModelFiles & { cardData: ModelCard }> {
  try {
    checkTinyInputSize(inputSize);
  } catch (e) {
    throw new FerkitError('E_INPUT', `convertTinyFaceDetector: ${(e as Error).message}`);
  }
  return convertModel(tinySpec(inputSize), outDir, sourceDir);
}
