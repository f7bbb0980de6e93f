/**
 * face-api's SSD MobileNetV1 quantized to int8 (static, QDQ; see ./qdq.ts), built at install time
 * from the same tfjs weights as the float model (./faceapi-ssd.ts), so no third-party weights are
 * committed or downloaded. onnxruntime fuses the QDQ pattern into QLinearConv (34 of the 47 convs,
 * all but conv_0 and the 12 head convs): ~2.1x faster than the float model on the AVX-512 VNNI
 * machine, 6 MB instead of 22 MB.
 *
 * Calibration: the float graph with every to-be-quantized activation exposed ('probe' variant) runs
 * on onnxruntime-node (1 thread, so the ranges are reproducible) over face-api's own demo photos
 * (@vladmandic/face-api/demo/sample*.jpg, installed with the weights), each at the detector's
 * default input (longer side S at its aspect ratio, ssdInputShape) and as face-api's padded square;
 * each activation's range is its min/max over all of them. All of them are relu6 outputs and most
 * reach 6 on these photos, so the data barely matters (adding 40 HELEN photos changed no range that
 * mattered, and 99.9–99.999th percentiles of a histogram instead of the max did not raise AFW recall).
 *
 * Weights: per-channel symmetric int8. face-api stores every weight as uint8 on a per-tensor grid; a
 * channel whose weights fit in ±qmax steps of that grid (×|BN scale| for the depthwise convs) keeps
 * it and is exact, the others get max|w|/qmax. 8 bits (qmax 127: all but 1–4 channels per layer
 * exact) where the CPU has VNNI; 7 bits (reduce_range, qmax 63: ~25% of the channels rounded)
 * elsewhere, because onnxruntime's u8s8 kernels without VNNI sum pairs of u8·s8 products in int16
 * (AVX2's vpmaddubsw: 2·255·127 saturates, 2·255·63 does not): ssdInt8ReduceRange(). Measured
 * against the float model (same cache, this VNNI machine): on face-api's demo photos at 800 px,
 * box IoU ≥ 0.96 and scores within 0.03 with 8 bits, IoU ≥ 0.745 and scores within 0.07 with 7;
 * on AFW at IoU ≥ 0.5, 313 (8-bit) and 314 (7-bit) of the float's 315 faces, each lost face an IoU
 * that moved from just above 0.5 to just below. Rounding onto a fresh grid instead (max|w|/qmax
 * everywhere) lost 8 faces.
 *
 * What stays float: conv_0 (with the input normalisation folded in, see ./faceapi-ssd.ts), the six
 * prediction heads' weights (1x1 convs on dequantized activations), and everything after them.
 * Quantizing the heads too (int8 weights, uint8 logits) saved 0.2 of ~5.5 ms per demo photo but
 * moved the boxes ~40% further from the float model's (median |ΔIoU| on AFW 0.0043 vs 0.0031) and
 * dropped one AFW face's score from 0.81 to 0.61.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SSD_IO, ssdInputShape } from '../detect/ssd.js';
import { FerkitError } from '../errors.js';
import { paddedInputTensor } from '../image/detector-input.js';
import { decodeImage } from '../node/decode.js';
import { nodeRuntime } from '../node/runtime.js';
import type { RgbImage } from '../types.js';
import { buildFaceApiSsdOnnx } from './faceapi-ssd.js';
import type { WeightMap } from './faceapi-weights.js';
import type { QuantRange } from './qdq.js';

/**
 * Whether this machine's int8 build takes 7-bit weights (see the file comment): everywhere except
 * x86-64 CPUs whose flags (Linux /proc/cpuinfo) show VNNI (avx512_vnni or avx_vnni), where 8-bit
 * weights cannot overflow and are measurably closer to the float model.
 */
export function ssdInt8ReduceRange(cpuFlags: string | null = readCpuFlags()): boolean {
  if (process.arch !== 'x64' || cpuFlags === null) return true;
  return !/\b(avx512_vnni|avx_vnni)\b/.test(cpuFlags);
}

function readCpuFlags(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * The calibration photos: face-api's demo folder next to its model/ folder, sample*.jpg in name
 * order. None there (e.g. a custom `sourceDir` without it) → FerkitError('E_MODEL') naming the folder.
 */
export async function ssdCalibrationFiles(faceApiModelDir: string): Promise<string[]> {
  const demo = join(faceApiModelDir, '..', 'demo');
  let names: string[] = [];
  try {
    names = (await readdir(demo)).filter((n) => /^sample\d+\.jpg$/.test(n)).sort();
  } catch {
    // reported below
  }
  if (names.length === 0) {
    throw new FerkitError('E_MODEL', `SSD int8 calibration: no face-api demo photos (sample*.jpg) in ${demo}`);
  }
  return names.map((n) => join(demo, n));
}

/**
 * Per-activation min/max of the float SSD at `inputSize` over `images` (each at its 'fit' input
 * and as the padded square).
 */
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
  reduceRange = ssdInt8ReduceRange(),
): Promise<Uint8Array> {
  const images: RgbImage[] = [];
  for (const file of calibrationFiles) images.push(await decodeImage(file));
  const ranges = await calibrateSsd(weights, source, inputSize, images);
  return buildFaceApiSsdOnnx(weights, source, inputSize, 'pixel', { int8: { ranges, reduceRange } });
}
