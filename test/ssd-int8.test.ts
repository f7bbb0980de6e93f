/**
 * The int8 SSD (src/convert/faceapi-ssd-int8.ts, src/convert/qdq.ts): the quantization arithmetic,
 * the cached build (loads, onnxruntime fuses it into QLinearConv, deterministic), its detections on
 * face-api's demo photos against the float model's, and bad input.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPhotoPaths, loadBenchPhotos } from '../src/bench/photos.js';
import { buildFaceApiSsdOnnx } from '../src/convert/faceapi-ssd.js';
import {
  buildFaceApiSsdInt8Onnx,
  calibrateSsd,
  ssdCalibrationFiles,
  ssdInt8ReduceRange,
} from '../src/convert/faceapi-ssd-int8.js';
import { readFaceApiWeights, type WeightMap } from '../src/convert/faceapi-weights.js';
import {
  ensureFaceApiModels,
  ensureSsdModel,
  type FaceApiModelPaths,
  faceApiWeightsDir,
  type ModelCard,
} from '../src/convert/main.js';
import { quantizeBias, quantizePerChannel, uint8Params } from '../src/convert/qdq.js';
import { createSsdDetector, SSD_DEFAULT_INPUT_SIZE, type SsdDetector } from '../src/detect/ssd.js';
import { FerkitError } from '../src/errors.js';
import { iou } from '../src/image/ops.js';
import { nodeRuntime } from '../src/node/runtime.js';
import type { Detection, RgbImage } from '../src/types.js';

const SIZE = SSD_DEFAULT_INPUT_SIZE;
const manifest = join(faceApiWeightsDir(), 'ssd_mobilenetv1_model-weights_manifest.json');
let work = '';
let paths: FaceApiModelPaths;
let weights: WeightMap;
let photos: RgbImage[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferkit-ssd-int8-'));
  paths = await ensureFaceApiModels(join(work, 'cache'), { ssdInt8Sizes: [SIZE] });
  weights = (await readFaceApiWeights(manifest)).tensors;
  // The benchmark's photos: face-api's six demo photos, longer side 800 px.
  photos = (await loadBenchPhotos(demoPhotoPaths(), 800)).map((p) => p.image);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('qdq arithmetic', () => {
  it('per-channel symmetric weights: within ±63 (7-bit) or ±127, error at most half a step', () => {
    const cout = 4;
    const w = Float32Array.from({ length: cout * 27 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % cout)));
    for (const reduceRange of [true, false]) {
      const qmax = reduceRange ? 63 : 127;
      const { values, scales } = quantizePerChannel(w, cout, reduceRange);
      for (let c = 0; c < cout; c++) {
        const ch = Array.from(values.subarray(c * 27, (c + 1) * 27));
        expect(Math.max(...ch.map(Math.abs))).toBe(qmax); // the largest weight uses the full range
        for (let k = 0; k < 27; k++) {
          expect(Math.abs(values[c * 27 + k] * scales[c] - w[c * 27 + k])).toBeLessThanOrEqual(scales[c] / 2 + 1e-7);
        }
      }
    }
  });

  it('weights on a known grid stay exact when they fit; a channel that does not fit falls back to max|w|/qmax', () => {
    const step = 0.0125;
    const codes = [
      [-40, 3, 17, 63],
      [100, -5, 0, 1],
    ];
    const w = Float32Array.from(codes.flat(), (q) => q * step);
    const grid = Float32Array.of(step, step);
    const { values, scales } = quantizePerChannel(w, 2, true, grid);
    expect(scales[0]).toBe(Math.fround(step));
    expect(Array.from(values.subarray(0, 4))).toEqual(codes[0]);
    expect(scales[1]).toBeCloseTo((100 * step) / 63, 7); // 100 steps do not fit in 7 bits
    expect(values[4]).toBe(63);
    // 8 bits: both channels fit and are exact.
    const wide = quantizePerChannel(w, 2, false, grid);
    expect(Array.from(wide.values)).toEqual(codes.flat());
    // Off-grid weights ignore the grid.
    const off = quantizePerChannel(Float32Array.of(0.3, -0.2, 0.1, 0.05), 1, false, Float32Array.of(0.007));
    expect(off.scales[0]).toBeCloseTo(0.3 / 127, 7);
  });

  it('uint8 activation parameters contain 0 exactly; biases are int32 at input × weight scale', () => {
    expect(uint8Params({ min: 0, max: 6 })).toEqual({ scale: Math.fround(6 / 255), zeroPoint: 0 });
    expect(uint8Params({ min: -1, max: 3 })).toEqual({ scale: Math.fround(4 / 255), zeroPoint: 64 });
    expect(uint8Params({ min: 2, max: 5 })).toEqual({ scale: Math.fround(5 / 255), zeroPoint: 0 }); // widened to 0
    expect(() => uint8Params({ min: 0, max: Number.NaN })).toThrow(/not finite/);
    expect(Array.from(quantizeBias(Float32Array.of(0.5, -0.25), 0.1, Float32Array.of(0.01, 0.05)))).toEqual([500, -50]);
    expect(() => quantizePerChannel(new Float32Array(10), 3, true)).toThrow(/10 weights for 3 channels/);
  });

  it('7-bit weights unless the CPU flags show VNNI on x86-64', () => {
    expect(ssdInt8ReduceRange(null)).toBe(true);
    expect(ssdInt8ReduceRange('fpu sse avx2 fma')).toBe(true);
    expect(ssdInt8ReduceRange('fpu avx2 avx512f avx512_vnni')).toBe(process.arch !== 'x64');
    expect(ssdInt8ReduceRange('fpu avx2 avx_vnni')).toBe(process.arch !== 'x64');
  });
});

/** Detections of `a` and `b` paired one-to-one, greedily by IoU (best first). */
function pairUp(a: Detection[], b: Detection[]): { iou: number; scoreDiff: number }[] {
  const pairs = a.flatMap((da, i) => b.map((db, j) => ({ i, j, o: iou(da.box, db.box) })));
  pairs.sort((p, q) => q.o - p.o);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const out: { iou: number; scoreDiff: number }[] = [];
  for (const p of pairs) {
    if (usedA.has(p.i) || usedB.has(p.j)) continue;
    usedA.add(p.i);
    usedB.add(p.j);
    out.push({ iou: p.o, scoreDiff: Math.abs(a[p.i].score - b[p.j].score) });
  }
  return out;
}

describe('the int8 SSD model', () => {
  it('is cached with a card naming its quantization, a quarter of the float model in size', async () => {
    const files = paths.ssdInt8BySize[SIZE];
    expect(files.model).toBe(join(work, 'cache', `ssd_mobilenetv1_${SIZE}_int8.onnx`));
    const card = JSON.parse(await readFile(files.card, 'utf8')) as ModelCard;
    const floatCard = JSON.parse(await readFile(paths.ssd.card, 'utf8')) as ModelCard;
    expect(card.id).toBe(`${floatCard.id}-int8`);
    expect(card.converter.file).toBe('src/convert/faceapi-ssd-int8.ts');
    expect(card.input).toEqual(floatCard.input);
    expect(card.outputs).toEqual(floatCard.outputs);
    expect(card.quantization?.format).toBe('QDQ');
    expect(card.quantization?.weights).toContain(ssdInt8ReduceRange() ? '7-bit' : '8-bit');
    expect(card.bytes).toBeLessThan(floatCard.bytes / 3);
    // ensureSsdModel's default build is this one.
    expect(await ensureSsdModel(undefined, undefined, join(work, 'cache'))).toEqual(files);
  });

  it('onnxruntime runs its convolutions as QLinearConv (all but conv_0 and the 12 head convs: 26 backbone + 8 extra)', async () => {
    const optimized = join(work, 'optimized.onnx');
    const session = await ort.InferenceSession.create(paths.ssdInt8BySize[SIZE].model, {
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: optimized,
      logSeverityLevel: 3,
    });
    await session.release();
    const text = (await readFile(optimized)).toString('latin1');
    expect(text.match(/QLinearConv/g)?.length).toBe(34);
  });

  it('finds the float model’s faces on the demo photos: same count, IoU ≥ 0.7, scores within 0.1', async () => {
    // Thresholds: the same face in both is expected to overlap far above AFW's 0.5 criterion, and
    // distinct faces in these photos never overlap by 0.7, so a pair at ≥ 0.7 is the same face.
    // Measured: 8-bit weights (VNNI) min IoU 0.96, max score difference 0.03; 7-bit 0.745 and 0.07.
    const float = await createSsdDetector(nodeRuntime, { model: await readFile(paths.ssd.model) });
    const int8 = await createSsdDetector(nodeRuntime, { model: await readFile(paths.ssdInt8BySize[SIZE].model) });
    const ious: number[] = [];
    try {
      for (const photo of photos) {
        const a = await float.detect(photo);
        const b = await int8.detect(photo);
        expect(b.length).toBe(a.length);
        for (const p of pairUp(a, b)) {
          expect(p.iou).toBeGreaterThanOrEqual(0.7);
          expect(p.scoreDiff).toBeLessThan(0.1);
          ious.push(p.iou);
        }
      }
    } finally {
      await float.dispose();
      await int8.dispose();
    }
    expect(ious).toHaveLength(22); // face-api's 22 faces at 512, all found by the float model at 320
    ious.sort((x, y) => x - y);
    expect(ious[ious.length >> 1]).toBeGreaterThan(0.9);
  });

  it('7-bit weights (the build for CPUs without VNNI) find the same faces too', async () => {
    const model = await buildFaceApiSsdInt8Onnx(
      weights,
      manifest,
      SIZE,
      await ssdCalibrationFiles(faceApiWeightsDir()),
      true,
    );
    const seven = await createSsdDetector(nodeRuntime, { model });
    const float = await createSsdDetector(nodeRuntime, { model: await readFile(paths.ssd.model) });
    try {
      for (const photo of photos) {
        const a = await float.detect(photo);
        const b = await seven.detect(photo);
        expect(b.length).toBe(a.length);
        for (const p of pairUp(a, b)) expect(p.iou).toBeGreaterThanOrEqual(0.7);
      }
    } finally {
      await seven.dispose();
      await float.dispose();
    }
  });

  it('is deterministic: a second conversion writes the same bytes', async () => {
    const again = await ensureFaceApiModels(join(work, 'cache2'), { ssdInt8Sizes: [SIZE], force: true });
    const hash = async (f: string) =>
      createHash('sha256')
        .update(await readFile(f))
        .digest('hex');
    expect(await hash(again.ssdInt8BySize[SIZE].model)).toBe(await hash(paths.ssdInt8BySize[SIZE].model));
  });
});

describe('bad input', () => {
  it('rejects bad sizes and precisions with E_INPUT', async () => {
    await expect(ensureFaceApiModels(join(work, 'bad'), { ssdInt8Sizes: [20] })).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/64\.\.1024, got 20/),
    });
    await expect(ensureSsdModel(SIZE, 'fp16' as never, join(work, 'bad'))).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/'int8' or 'float', got fp16/),
    });
  });

  it('no calibration photos → E_MODEL naming the folder; no images or ranges → errors naming what is missing', async () => {
    const err = await ssdCalibrationFiles(join(work, 'nowhere', 'model')).catch((e) => e);
    expect(err).toBeInstanceOf(FerkitError);
    expect(err.code).toBe('E_MODEL');
    expect(err.message).toContain(join(work, 'nowhere', 'demo'));
    await expect(calibrateSsd(weights, manifest, SIZE, [])).rejects.toThrow(/at least one image/);
    expect(() =>
      buildFaceApiSsdOnnx(weights, manifest, SIZE, 'pixel', { int8: { ranges: new Map(), reduceRange: true } }),
    ).toThrow(/no calibration range for MobilenetV1\/Conv2d_0_pointwise\/relu6/);
  });
});
