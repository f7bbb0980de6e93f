/** Layers that more than one face-api network uses, written once for their converters. */
import type { GraphBuilder } from './onnx-writer.js';
import { type Feature, hwc1ToC1hw, hwioToOihw, tfConvSame } from './tf-layers.js';

/** A converter's weight lookup: takeWeight bound to its weights file (name, expected tfjs shape). */
export type WeightLookup = (name: string, shape: number[]) => Float32Array;

/**
 * face-api's depthwise-separable conv as FaceLandmark68Net's dense blocks and TinyFaceDetector's
 * backbone both store it (`<prefix>/depthwise_filter`, `/pointwise_filter`, `/bias`):
 * tf.separableConv2d(x, depthwise, pointwise, stride, 'same') + bias. tfjs runs it as a 3x3 depthwise
 * conv ('same', stride) followed by a 1x1 conv; the bias is added after the pointwise conv, so it
 * becomes the pointwise Conv's bias. No activation: each network applies its own.
 */
export function faceApiSeparableConv(
  g: GraphBuilder,
  w: WeightLookup,
  x: Feature,
  prefix: string,
  cout: number,
  stride: number,
): Feature {
  const c = x.channels;
  const dw = tfConvSame(g, x, {
    weight: hwc1ToC1hw(w(`${prefix}/depthwise_filter`, [3, 3, c, 1]), 3, 3, c),
    outChannels: c,
    kernel: 3,
    stride,
    group: c,
    name: `${prefix}/depthwise`,
  });
  return tfConvSame(g, dw, {
    weight: hwioToOihw(w(`${prefix}/pointwise_filter`, [1, 1, c, cout]), 1, 1, c, cout),
    bias: w(`${prefix}/bias`, [cout]),
    outChannels: cout,
    kernel: 1,
    stride: 1,
    name: `${prefix}/pointwise`,
  });
}
