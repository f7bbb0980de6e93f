/**
 * The tfjs → ONNX conversion itself: the protobuf writer and TF 'same' padding against tfjs, weight
 * decoding against tfjs' own decoder, the model cache, error reporting, and the converted networks'
 * raw outputs against face-api's networks on identical input tensors.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TINY_CONVERTER_FILE,
  TINY_CONVERTER_VERSION,
  TINY_MANIFEST,
  tinyModelFile,
  tinyModelId,
} from '../src/convert/faceapi-tiny.js';
import { hashFaceApiWeights, readFaceApiWeights } from '../src/convert/faceapi-weights.js';
import {
  CONVERTER_VERSION,
  defaultModelCacheDir,
  ensureFaceApiModels,
  faceApiWeightsDir,
  type ModelCard,
} from '../src/convert/main.js';
import { GraphBuilder } from '../src/convert/onnx-writer.js';
import { hwc1ToC1hw, hwioToOihw, tfConvSame, tfSamePads } from '../src/convert/tf-layers.js';
import {
  createSsdDetector,
  decodeSsdBox,
  SSD_DEFAULT_INPUT_SIZE,
  SSD_INPUT_SIZE,
  SSD_NUM_ANCHORS,
  ssdInputTensor,
} from '../src/detect/ssd.js';
import { TINY_DEFAULT_INPUT_SIZE } from '../src/detect/tiny.js';
import { FerkitError } from '../src/errors.js';
import {
  createLandmarkModel,
  LANDMARK_INPUT_SIZE,
  landmarkCrop,
  landmarkInputTensor,
} from '../src/landmarks/landmark68.js';
import { nodeRuntime } from '../src/node/runtime.js';
import type { RgbImage } from '../src/types.js';
import { faceapi, loadSample, samplePath, tf } from './helpers/faceapi.js';

const SAMPLE1 = samplePath(1);

/** Deterministic pseudo-random floats in [-1, 1). */
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Planar CHW → interleaved HWC, for feeding the same tensor to tfjs. */
function chwToHwc(data: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[i * c + k] = data[k * h * w + i];
  return out;
}

async function expectFerkitError(p: Promise<unknown>, code: string, mentions: string): Promise<FerkitError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FerkitError);
  expect((e as FerkitError).code).toBe(code);
  expect((e as FerkitError).message).toContain(mentions);
  return e as FerkitError;
}

let image: RgbImage;
let work: string;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  image = await loadSample(1);
  work = await mkdtemp(join(tmpdir(), 'ferkit-convert-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('onnx-writer', () => {
  it("computes TF 'same' pads, asymmetric for stride 2", () => {
    expect(tfSamePads(512, 3, 2)).toEqual([0, 1]);
    expect(tfSamePads(7, 3, 2)).toEqual([1, 1]);
    expect(tfSamePads(8, 3, 1)).toEqual([1, 1]);
    expect(tfSamePads(8, 1, 2)).toEqual([0, 0]);
  });

  it('writes models ORT runs, and strided/depthwise convs match tfjs conv2d/depthwiseConv2d', async () => {
    // Odd and even sizes, stride 2: the cases where ONNX symmetric pads would differ from TF.
    for (const [h, w] of [
      [8, 6],
      [7, 9],
    ]) {
      const cin = 3;
      const cout = 4;
      const x = randoms(cin * h * w, h * 31 + w);
      const filt = randoms(3 * 3 * cin * cout, 7);
      const dwFilt = randoms(3 * 3 * cout, 11);
      const bias = randoms(cout, 13);

      const g = new GraphBuilder('test');
      const input = g.input('x', ['N', cin, h, w]);
      const conv = tfConvSame(
        g,
        { name: input, channels: cin, height: h, width: w },
        { weight: hwioToOihw(filt, 3, 3, cin, cout), bias, outChannels: cout, kernel: 3, stride: 2, name: 'conv' },
      );
      const dw = tfConvSame(g, conv, {
        weight: hwc1ToC1hw(dwFilt, 3, 3, cout),
        outChannels: cout,
        kernel: 3,
        stride: 2,
        group: cout,
        name: 'dw',
      });
      g.output(dw.name, ['N', cout, dw.height, dw.width]);
      const session = await nodeRuntime.createSession(g.toModel(), 'test graph');
      const out = await session.run({ x: { data: x, dims: [1, cin, h, w] } });
      await session.dispose();

      const ref = tf.tidy(() => {
        const t = tf.tensor4d(chwToHwc(x, cin, h, w), [1, h, w, cin]);
        const c = tf.add(tf.conv2d(t, tf.tensor4d(filt, [3, 3, cin, cout]), 2, 'same'), tf.tensor1d(bias));
        return tf.depthwiseConv2d(c, tf.tensor4d(dwFilt, [3, 3, cout, 1]), 2, 'same');
      });
      const [, rh, rw, rc] = ref.shape;
      expect(out.dw.dims).toEqual([1, rc, rh, rw]);
      expect(maxAbsDiff(chwToHwc(out.dw.data, rc, rh, rw), ref.dataSync())).toBeLessThan(1e-4);
      ref.dispose();
    }
  });
});

describe('face-api weights', () => {
  it('decode (uint8 quantized, float32, int32) exactly as tfjs io.decodeWeights does', async () => {
    for (const name of ['ssd_mobilenetv1_model', 'face_landmark_68_model']) {
      const manifestPath = join(faceApiWeightsDir(), `${name}-weights_manifest.json`);
      const ours = await readFaceApiWeights(manifestPath);
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
      const bin = await readFile(join(faceApiWeightsDir(), manifest[0].paths[0]));
      const theirs = tf.io.decodeWeights(
        bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
        manifest[0].weights,
      );
      expect([...ours.tensors.keys()].sort()).toEqual(Object.keys(theirs).sort());
      for (const [key, t] of ours.tensors) {
        expect(t.shape).toEqual(theirs[key].shape);
        const ref: ArrayLike<number> = theirs[key].dataSync();
        expect(t.data.length).toBe(ref.length);
        let mismatches = 0;
        for (let i = 0; i < ref.length; i++) if (t.data[i] !== ref[i]) mismatches++;
        expect(mismatches, `${name}: ${key}`).toBe(0);
      }
      expect(ours.sha256).toBe(await hashFaceApiWeights(manifestPath));
      tf.dispose(Object.values(theirs));
    }
  });

  it('missing or corrupt weights → E_MODEL naming the file', async () => {
    const empty = join(work, 'no-weights');
    await mkdir(empty);
    await expectFerkitError(
      ensureFaceApiModels(join(work, 'out1'), { sourceDir: empty }),
      'E_MODEL',
      join(empty, 'ssd_mobilenetv1_model-weights_manifest.json'),
    );

    const truncated = join(work, 'truncated');
    await mkdir(truncated);
    await copyFile(
      join(faceApiWeightsDir(), 'ssd_mobilenetv1_model-weights_manifest.json'),
      join(truncated, 'ssd_mobilenetv1_model-weights_manifest.json'),
    );
    const bin = await readFile(join(faceApiWeightsDir(), 'ssd_mobilenetv1_model.bin'));
    await writeFile(join(truncated, 'ssd_mobilenetv1_model.bin'), bin.subarray(0, bin.length - 1000));
    const e = await expectFerkitError(
      ensureFaceApiModels(join(work, 'out2'), { sourceDir: truncated }),
      'E_MODEL',
      join(truncated, 'ssd_mobilenetv1_model.bin'),
    );
    expect(e.message).toMatch(/truncated/);

    await writeFile(join(truncated, 'ssd_mobilenetv1_model-weights_manifest.json'), '{not json');
    await expectFerkitError(
      ensureFaceApiModels(join(work, 'out3'), { sourceDir: truncated }),
      'E_MODEL',
      join(truncated, 'ssd_mobilenetv1_model-weights_manifest.json'),
    );
  });
});

describe('ensureFaceApiModels', () => {
  it('converts into the cache with cards, then skips up-to-date models and rebuilds a damaged one', async () => {
    const dir = join(work, 'cache');
    const log: string[] = [];
    const paths = await ensureFaceApiModels(dir, { log: (m) => log.push(m) });
    expect(log).toHaveLength(2);
    expect(paths.ssd.model).toBe(join(dir, `ssd_mobilenetv1_${SSD_DEFAULT_INPUT_SIZE}.onnx`));
    expect(paths.ssdBySize).toEqual({ [SSD_DEFAULT_INPUT_SIZE]: paths.ssd });
    expect(paths.landmark68.model).toBe(join(dir, 'face_landmark_68.onnx'));

    const card = JSON.parse(await readFile(paths.ssd.card, 'utf8')) as ModelCard;
    expect(card.converter.version).toBe(CONVERTER_VERSION);
    expect(card.input).toMatchObject({
      name: 'input',
      shape: ['N', 3, 'H', 'W'],
      inputSize: SSD_DEFAULT_INPUT_SIZE,
      pixelRange: [0, 255],
      channelOrder: 'RGB',
    });
    expect(card.outputs.map((o) => o.name)).toEqual(['boxes', 'scores', 'anchors']);
    expect(card.source.sha256).toBe(
      await hashFaceApiWeights(join(faceApiWeightsDir(), 'ssd_mobilenetv1_model-weights_manifest.json')),
    );
    const lmCard = JSON.parse(await readFile(paths.landmark68.card, 'utf8')) as ModelCard;
    expect(lmCard.input).toMatchObject({ name: 'input', shape: ['N', 3, 112, 112], inputSize: 112 });

    const before = (await stat(paths.ssd.model)).mtimeMs;
    const again = await ensureFaceApiModels(dir, { log: (m) => log.push(m) });
    expect(again).toEqual(paths);
    expect(log).toHaveLength(2); // nothing converted
    expect((await stat(paths.ssd.model)).mtimeMs).toBe(before);

    await writeFile(paths.landmark68.model, 'damaged');
    await ensureFaceApiModels(dir, { log: (m) => log.push(m) });
    expect(log).toHaveLength(3);
    expect(log[2]).toContain('face_landmark_68');
    expect((await readFile(paths.landmark68.model)).length).toBe(lmCard.bytes);
  });

  it('builds the tiny detector on request (tinySizes) and keeps it current like the others', async () => {
    const dir = join(work, 'cache-tiny');
    const size = TINY_DEFAULT_INPUT_SIZE;
    const log: string[] = [];
    const paths = await ensureFaceApiModels(dir, { tinySizes: [size], log: (m) => log.push(m) });
    expect(log).toHaveLength(3); // SSD, landmarks, tiny
    const tiny = paths.tinyBySize[size];
    expect(Object.keys(paths.tinyBySize)).toEqual([String(size)]);
    expect(tiny.model).toBe(join(dir, tinyModelFile(size)));
    const card = JSON.parse(await readFile(tiny.card, 'utf8')) as ModelCard;
    expect(card).toMatchObject({
      id: tinyModelId(size),
      file: tinyModelFile(size),
      bytes: (await readFile(tiny.model)).length,
      converter: { file: TINY_CONVERTER_FILE, version: TINY_CONVERTER_VERSION },
      source: { manifest: TINY_MANIFEST },
    });
    expect(card.source.sha256).toBe(await hashFaceApiWeights(join(faceApiWeightsDir(), TINY_MANIFEST)));

    expect(await ensureFaceApiModels(dir, { tinySizes: [size], log: (m) => log.push(m) })).toEqual(paths);
    expect(log).toHaveLength(3); // nothing converted
    await writeFile(tiny.model, 'damaged');
    await ensureFaceApiModels(dir, { tinySizes: [size], log: (m) => log.push(m) });
    expect(log).toHaveLength(4);
    expect(log[3]).toContain(tinyModelFile(size));
    await expect(ensureFaceApiModels(dir, { tinySizes: [400] })).rejects.toMatchObject({ code: 'E_INPUT' });
    expect((await ensureFaceApiModels(dir)).tinyBySize).toEqual({});
  });

  it('defaults to <package root>/.cache/models, overridable with FERKIT_MODEL_CACHE', () => {
    const saved = process.env.FERKIT_MODEL_CACHE;
    try {
      delete process.env.FERKIT_MODEL_CACHE;
      expect(defaultModelCacheDir()).toBe(join(process.cwd(), '.cache', 'models'));
      process.env.FERKIT_MODEL_CACHE = join(work, 'elsewhere');
      expect(defaultModelCacheDir()).toBe(join(work, 'elsewhere'));
    } finally {
      if (saved === undefined) delete process.env.FERKIT_MODEL_CACHE;
      else process.env.FERKIT_MODEL_CACHE = saved;
    }
  });

  it("converted graphs reproduce face-api's network outputs on the same input tensors", async () => {
    // face-api's own 512 input: ferkit's default size differs, so ask for 512 explicitly.
    const paths = await ensureFaceApiModels(join(work, 'cache'), { ssdSizes: [512] });
    const ssd512 = paths.ssdBySize[512];
    const mdir = faceApiWeightsDir();
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(mdir);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(mdir);

    // SSD: one 512x512 input, all 5118 anchors' scores and decoded boxes.
    const ssdSession = await nodeRuntime.createSession(await readFile(ssd512.model), ssd512.model);
    const input = ssdInputTensor(image);
    const out = await ssdSession.run({ input: { data: input, dims: [1, 3, SSD_INPUT_SIZE, SSD_INPUT_SIZE] } });
    await ssdSession.dispose();
    expect(out.scores.dims).toEqual([1, SSD_NUM_ANCHORS]);
    const t = tf.tensor4d(chwToHwc(input, 3, SSD_INPUT_SIZE, SSD_INPUT_SIZE), [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3]);
    const ref = await faceapi.nets.ssdMobilenetv1.forward(t);
    const refScores: Float32Array = ref.scores[0].dataSync();
    const refBoxes: Float32Array = ref.boxes[0].dataSync();
    tf.dispose([t, ...ref.scores, ...ref.boxes]);
    const scoreDiff = maxAbsDiff(out.scores.data, refScores);
    let boxDiff = 0;
    for (let i = 0; i < SSD_NUM_ANCHORS; i++) {
      const b = decodeSsdBox(out.boxes.data, out.anchors.data, i);
      const r = refBoxes.subarray(i * 4, i * 4 + 4); // [ymin, xmin, ymax, xmax]
      boxDiff = Math.max(
        boxDiff,
        Math.abs(b.y - r[0]),
        Math.abs(b.x - r[1]),
        Math.abs(b.y + b.height - r[2]),
        Math.abs(b.x + b.width - r[3]),
      );
    }
    console.log(
      `[convert] SSD raw parity: max |Δscore| ${scoreDiff.toExponential(2)}, max |Δbox| ${boxDiff.toExponential(2)} (unit square)`,
    );
    expect(Math.max(...refScores)).toBeGreaterThan(0.9); // the photo has faces: the comparison is not all zeros
    expect(scoreDiff).toBeLessThan(1e-3);
    expect(boxDiff).toBeLessThan(1e-3);

    // Landmarks: a 112x112 face input; face-api's output for a square 112 input is the raw net output.
    const lmSession = await nodeRuntime.createSession(await readFile(paths.landmark68.model), paths.landmark68.model);
    const crop = landmarkCrop({ x: 250, y: 120, width: 300, height: 380 }, image.width, image.height);
    const lmInput = new Float32Array(3 * LANDMARK_INPUT_SIZE * LANDMARK_INPUT_SIZE);
    landmarkInputTensor(image, crop, lmInput);
    const lmOut = await lmSession.run({
      input: { data: lmInput, dims: [1, 3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE] },
    });
    await lmSession.dispose();
    const lt = tf.tensor4d(chwToHwc(lmInput, 3, 112, 112), [1, 112, 112, 3]);
    const lref = await faceapi.nets.faceLandmark68Net.forward(lt);
    const lmDiff = maxAbsDiff(lmOut.landmarks.data, lref.dataSync());
    tf.dispose([lt, lref]);
    console.log(`[convert] landmark raw parity: max |Δ| ${lmDiff.toExponential(2)} (units of the 112-px input)`);
    expect(lmDiff).toBeLessThan(1e-4);
  });

  it('a non-ONNX file given as a model → E_MODEL naming the file', async () => {
    await expectFerkitError(
      createSsdDetector(nodeRuntime, { model: await readFile(SAMPLE1), source: SAMPLE1 }),
      'E_MODEL',
      SAMPLE1,
    );
    await expectFerkitError(
      createLandmarkModel(nodeRuntime, { model: new Uint8Array(0), source: 'empty.onnx' }),
      'E_MODEL',
      'empty.onnx',
    );
    // A valid ONNX model of the wrong kind is refused too.
    const paths = await ensureFaceApiModels(join(work, 'cache'));
    await expectFerkitError(
      createLandmarkModel(nodeRuntime, { model: await readFile(paths.ssd.model), source: paths.ssd.model }),
      'E_MODEL',
      paths.ssd.model,
    );
  });
});
