/**
 * face-api's SSD MobileNetV1 quantized to int8 (static, QDQ; see ./qdq.ts), built at install time
 * from the same tfjs weights as the float model (./faceapi-ssd.ts), so no third-party weights are
 * committed or downloaded. onnxruntime fuses the QDQ pattern into QLinearConv (35 of the 48 convs):
 * ~2.1x faster than the float model on the AVX-512 VNNI machine, 6 MB instead of 22 MB.
 *
 * Calibration: the float graph with every to-be-quantized activation exposed ('probe' variant) runs
 * on onnxruntime-node (1 thread, so the ranges are reproducible) over face-api's own demo photos
 * (@vladmandic/face-api/demo/sample*.jpg, installed with the weights), each at the detector's
 * default input (longer side S at its aspect ratio, ssdInputShape) and as face-api's padded square;
 * each activation's range is its min/max over all of them. All of them are relu6 outputs and most
 * reach 6 on these photos, so the data barely matters (adding 40 HELEN photos changed no range that
 * mattered, and 99.9–99.999th percentiles instead of the max did not raise AFW recall).
 *
 * Weights: per-channel symmetric int8 in 7 bits (reduceRange, SSD_INT8_REDUCE_RANGE) so that CPUs
 * without VNNI (AVX2's vpmaddubsw sums u8·s8 pairs in int16: 2·255·127 overflows, 2·255·63 does
 * not) compute the same thing as this one. face-api stores every weight as uint8 on a per-tensor
 * grid; a channel whose weights fit in ±63 steps of that grid (×|BN scale| for the depthwise convs)
 * keeps it and is exact, the others get max|w|/63. Measured on AFW (`ferkit bench afw`): rounding
 * onto a fresh grid instead lost 8 of the float model's 315 faces at IoU ≥ 0.5; keeping the grid,
 * 1 (7-bit) or 2 (8-bit), each an IoU that moved from just above 0.5 to just below.
 *
 * What stays float: conv_0 (with the input normalisation folded in, see ./faceapi-ssd.ts), the six
 * prediction heads' weights (1x1 convs on dequantized activations), and everything after them.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SSD_IO, ssdInputShape } from '../detect/ssd.js';
import { paddedInputTensor } from '../image/detector-input.js';
import { decodeImage } from '../node/decode.js';
import { nodeRuntime } from '../node/runtime.js';
import type { RgbImage } from '../types.js';
import { buildFaceApiSsdOnnx } from './faceapi-ssd.js';
import type { WeightMap } from './faceapi-weights.js';
import type { QuantRange } from './qdq.js';

/** 7-bit weights (see the file comment). */
export const SSD_INT8_REDUCE_RANGE = true;

/** The calibration photos: face-api's demo folder next to its model/ folder, sample*.jpg in name order. */
export async function ssdCalibrationFiles(faceApiModelDir: string): Promise<string[]> {
  const demo = join(faceApiModelDir, '..', 'demo');
  const names = (await readdir(demo)).filter((n) => /^sample\d+\.jpg$/.test(n)).sort();
  if (names.length === 0) throw new Error(`no calibration photos (sample*.jpg) in ${demo}`);
  return names.map((n) => join(demo, n));
}

/** Bins of the calibration histogram over relu6's [0, 6] (1/1000 wide). */
const HISTOGRAM_BINS = 6000;

/**
 * Per-activation ranges of the float SSD at `inputSize` over `images` (fit and square inputs):
 * [min, the `percentile`-th percentile] (100: the max). Every quantized activation is a relu6 output,
 * so one fixed histogram over [0, 6] serves all of them.
 */
export async function calibrateSsd(
  weights: WeightMap,
  source: string,
  inputSize: number,
  images: readonly RgbImage[],
  percentile = 100,
): Promise<Map<string, QuantRange>> {
  if (images.length === 0) throw new Error('SSD int8 calibration needs at least one image');
  if (!(percentile > 0 && percentile <= 100))
    throw new Error(`SSD int8 calibration: percentile ${percentile} is not in (0, 100]`);
  const probe = buildFaceApiSsdOnnx(weights, source, inputSize, 'pixel', { probe: true });
  const session = await nodeRuntime.createSession(probe, `${source} (calibration graph)`, { threads: 1 });
  const stats = new Map<string, { min: number; max: number; histogram: Float64Array; count: number }>();
  try {
    const fixed = new Set<string>([SSD_IO.boxes, SSD_IO.scores, SSD_IO.anchors]);
    for (const image of images) {
      for (const fit of [true, false]) {
        const geometry = ssdInputShape(image.width, image.height, inputSize, fit);
        const input = paddedInputTensor(image, geometry);
        const out = await session.run({
          [SSD_IO.input]: { data: input, dims: [1, 3, geometry.height, geometry.width] },
        });
        for (const [name, t] of Object.entries(out)) {
          if (fixed.has(name)) continue;
          let s = stats.get(name);
          if (!s) {
            s = {
              min: Number.POSITIVE_INFINITY,
              max: Number.NEGATIVE_INFINITY,
              histogram: new Float64Array(HISTOGRAM_BINS + 1),
              count: 0,
            };
            stats.set(name, s);
          }
          for (const v of t.data) {
            if (v < s.min) s.min = v;
            if (v > s.max) s.max = v;
            s.histogram[Math.min(HISTOGRAM_BINS, Math.max(0, Math.round((v / 6) * HISTOGRAM_BINS)))]++;
          }
          s.count += t.data.length;
        }
      }
    }
  } finally {
    await session.dispose();
  }
  const ranges = new Map<string, QuantRange>();
  for (const [name, s] of stats) {
    let max = s.max;
    if (percentile < 100) {
      const target = (percentile / 100) * s.count;
      let seen = 0;
      let bin = 0;
      while (bin < HISTOGRAM_BINS && seen + s.histogram[bin] < target) seen += s.histogram[bin++];
      max = Math.min(s.max, (bin / HISTOGRAM_BINS) * 6);
    }
    ranges.set(name, { min: s.min, max });
  }
  return ranges;
}

/** The int8 model: calibrate on `calibrationFiles`, then build the QDQ graph. */
export async function buildFaceApiSsdInt8Onnx(
  weights: WeightMap,
  source: string,
  inputSize: number,
  calibrationFiles: readonly string[],
  reduceRange = SSD_INT8_REDUCE_RANGE,
): Promise<Uint8Array> {
  const images: RgbImage[] = [];
  for (const file of calibrationFiles) images.push(await decodeImage(file));
  const ranges = await calibrateSsd(weights, source, inputSize, images);
  return buildFaceApiSsdOnnx(weights, source, inputSize, 'pixel', { int8: { ranges, reduceRange } });
}
