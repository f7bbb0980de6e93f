/**
 * face-api's SSD MobileNetV1 quantized to int8 (static, QDQ; see ./qdq.ts), built at install time
 * from the same tfjs weights as the float model (./faceapi-ssd.ts), so no third-party weights are
 * committed or downloaded.
 *
 * Calibration: the float graph with every to-be-quantized activation exposed ('probe' variant) runs
 * on onnxruntime-node (1 thread, so the ranges are reproducible) over face-api's own demo photos
 * (@vladmandic/face-api/demo/sample*.jpg, installed with the weights), each at the detector's
 * default input (longer side S at its aspect ratio, ssdInputShape) and as face-api's padded square;
 * each activation's range is its min/max over all of them. Relu6 outputs are in [0, 6] by
 * construction, so min/max cannot be blown up by a single outlier beyond that.
 *
 * What stays float: the input normalisation (x / 127.5 − 1), the six prediction heads' weights (1x1
 * convs, ~2% of the work; their inputs are dequantized), and everything after them. Weights are
 * per-channel symmetric int8 in 7 bits (reduceRange, see ./qdq.ts): on this project's AVX-512 VNNI
 * machine 8-bit weights found the same faces, and 7 bits keep AVX2-only CPUs free of int16 overflow.
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

/** Per-activation min/max of the float SSD at `inputSize` over `images` (fit and square inputs). */
export async function calibrateSsd(
  weights: WeightMap,
  source: string,
  inputSize: number,
  images: readonly RgbImage[],
): Promise<Map<string, QuantRange>> {
  if (images.length === 0) throw new Error('SSD int8 calibration needs at least one image');
  const probe = buildFaceApiSsdOnnx(weights, source, inputSize, 'pixel', { probe: true });
  const session = await nodeRuntime.createSession(probe, `${source} (calibration graph)`, { threads: 1 });
  const ranges = new Map<string, QuantRange>();
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
          const r = ranges.get(name) ?? { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
          for (const v of t.data) {
            if (v < r.min) r.min = v;
            if (v > r.max) r.max = v;
          }
          ranges.set(name, r);
        }
      }
    }
  } finally {
    await session.dispose();
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
