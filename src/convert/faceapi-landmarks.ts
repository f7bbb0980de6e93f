/**
 * face-api's FaceLandmark68Net (tfjs weights) → ONNX, re-expressed op by op from
 * node_modules/@vladmandic/face-api/src/faceFeatureExtractor/{FaceFeatureExtractor,denseBlock}.ts,
 * src/common/depthwiseSeparableConv.ts and src/faceProcessor/FaceProcessor.ts (the fc head).
 *
 * Graph contract (see LANDMARK_IO in ../landmarks/landmark68.ts, which owns it):
 *   input      [N, 3, 112, 112] float32, RGB, 0..255: a face crop centre-padded to a square and
 *              resized to 112 as face-api's NetInput.toBatchTensor(112, true) does. The graph applies
 *              face-api's normalisation (x − meanRgb) / 255 with meanRgb = [122.782, 117.001, 104.298].
 *   landmarks  [N, 136] the raw network output: (x, y) pairs of the 68 points in 0..1 units of the
 *              112-px padded square; mapping back to image pixels is done in TypeScript.
 */
import { LANDMARK_INPUT_SIZE, LANDMARK_IO } from '../landmarks/landmark68.js';
import { faceApiSeparableConv } from './faceapi-layers.js';
import { takeWeight, type WeightMap } from './faceapi-weights.js';
import { attr, GraphBuilder } from './onnx-writer.js';
import { type Feature, hwioToOihw, mapFeature, tfConvSame } from './tf-layers.js';

/** FaceFeatureExtractor.forwardInput's per-channel mean (RGB). */
export const LANDMARK_MEAN_RGB = [122.782, 117.001, 104.298] as const;

/** Output channels of dense blocks 0..3 (each block halves the resolution: 112 → 56 → 28 → 14 → 7). */
const DENSE_CHANNELS = [32, 64, 128, 256];

export function buildFaceApiLandmark68Onnx(weights: WeightMap, source = 'face_landmark_68_model'): Uint8Array {
  const g = new GraphBuilder('faceapi_landmark68');
  const w = (name: string, shape: number[]) => takeWeight(weights, name, shape, source);
  const relu = (x: Feature, name: string) => mapFeature(x, g.node('Relu', [x.name], {}, name));
  const add = (a: Feature, b: Feature, name: string) => mapFeature(a, g.node('Add', [a.name, b.name], {}, name));

  /** depthwiseSeparableConv (no activation here: denseBlock4 applies relu to the sums). */
  const separable = (x: Feature, prefix: string, cout: number, stride: number): Feature =>
    faceApiSeparableConv(g, w, x, prefix, cout, stride);

  /** denseBlock4 (isScaleDown = true), with tfjs' exact association order of the residual sums. */
  const denseBlock4 = (x: Feature, prefix: string, cout: number, isFirstLayer: boolean): Feature => {
    const conv0 = isFirstLayer
      ? tfConvSame(g, x, {
          weight: hwioToOihw(w(`${prefix}/conv0/filters`, [3, 3, x.channels, cout]), 3, 3, x.channels, cout),
          bias: w(`${prefix}/conv0/bias`, [cout]),
          outChannels: cout,
          kernel: 3,
          stride: 2,
          name: `${prefix}/conv0`,
        })
      : separable(x, `${prefix}/conv0`, cout, 2);
    const out1 = relu(conv0, `${prefix}/out1`);
    const out2 = separable(out1, `${prefix}/conv1`, cout, 1);
    const in3 = relu(add(out1, out2, `${prefix}/sum3`), `${prefix}/in3`);
    const out3 = separable(in3, `${prefix}/conv2`, cout, 1);
    const in4 = relu(add(out1, add(out2, out3, `${prefix}/sum4b`), `${prefix}/sum4`), `${prefix}/in4`);
    const out4 = separable(in4, `${prefix}/conv3`, cout, 1);
    const tail = add(out2, add(out3, out4, `${prefix}/sum5c`), `${prefix}/sum5b`);
    return relu(add(out1, tail, `${prefix}/sum5`), `${prefix}/out`);
  };

  const size = LANDMARK_INPUT_SIZE;
  const input = g.input(LANDMARK_IO.input, ['N', 3, size, size]);
  // normalize(batchTensor, meanRgb).div(255)
  const centred = g.node('Sub', [input, g.float('norm/mean', [...LANDMARK_MEAN_RGB], [1, 3, 1, 1])], {}, 'norm/sub');
  const normalised = g.node('Div', [centred, g.float('norm/scale', 255)], {}, 'norm/div');
  let x: Feature = { name: normalised, channels: 3, height: size, width: size };
  DENSE_CHANNELS.forEach((cout, i) => {
    x = denseBlock4(x, `dense${i}`, cout, i === 0);
  });
  if (x.height !== 7 || x.width !== 7) throw new Error(`landmark net: expected a 7x7 map, got ${x.height}x${x.width}`);
  // tf.avgPool(out, [7, 7], [2, 2], 'valid') on a 7x7 map: one output cell, no padding.
  const pooled = g.node(
    'AveragePool',
    [x.name],
    { kernel_shape: attr.ints([7, 7]), strides: attr.ints([2, 2]), pads: attr.ints([0, 0, 0, 0]) },
    'avgpool',
  );
  const flat = g.node('Flatten', [pooled], { axis: attr.int(1) }, 'flatten');
  // fullyConnectedLayer: matMul(x, weights [256, 136]) + bias.
  const channels = x.channels;
  const fcW = g.initializer('fc/weights', w('fc/weights', [channels, 136]), [channels, 136]);
  const fcB = g.initializer('fc/bias', w('fc/bias', [136]), [136]);
  const out = g.node('Gemm', [flat, fcW, fcB], {}, LANDMARK_IO.output);
  g.output(out, ['N', 136]);
  return g.toModel({
    producerName: 'ferkit',
    docString: 'face-api FaceLandmark68Net, converted from tfjs weights by ferkit (src/convert/faceapi-landmarks.ts)',
    opset: 13,
  });
}
