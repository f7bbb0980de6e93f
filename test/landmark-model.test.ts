/**
 * ferkit's own 68-point landmark model (models/ferkit-landmarks.onnx, trained by
 * training/ferkit_train/landmarks/): its card, PyTorch parity on onnxruntime-node and on
 * onnxruntime-web's WASM engine (the browser's), loading through the Node stage by name, points on
 * the demo photos, and — when the AFW data is present — that it beats face-api's net on the same boxes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebRuntime } from '../src/browser/runtime.js';
import { FerkitError } from '../src/errors.js';
import { defaultAfwDir, runAfwEvaluation } from '../src/eval/afw.js';
import { DEFAULT_LANDMARK_MODEL, LANDMARK_MODEL_TASK } from '../src/landmarks/default-model.js';
import { createLandmarkModel, LANDMARK_INPUT_SIZE, LANDMARK_IO } from '../src/landmarks/landmark68.js';
import type { LandmarkModel } from '../src/landmarks/types.js';
import { bundledModelNames } from '../src/node/bundled-models.js';
import { decodeImage } from '../src/node/decode.js';
import { bundledModelDir } from '../src/node/paths.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { bundledLandmarkModelPath, createFaceDetector, createLandmarks } from '../src/node/stages.js';
import type { InferenceRuntime } from '../src/runtime/types.js';

const MODEL_PATH = bundledLandmarkModelPath();
const card = JSON.parse(readFileSync(MODEL_PATH.replace(/\.onnx$/, '.json'), 'utf8'));
const parity = JSON.parse(readFileSync(MODEL_PATH.replace(/\.onnx$/, '.parity.json'), 'utf8')) as {
  count: number;
  tolerance: number;
  outputs: number[][];
};
const DEMO = 'node_modules/@vladmandic/face-api/demo';

/** export.py's parity_inputs(): floor(127.5 + 127.5 sin(0.11 (k+1) x + 0.07 (c+1) y + k + c)), [count, 3, 112, 112]. */
function parityInputs(count: number): Float32Array {
  const S = LANDMARK_INPUT_SIZE;
  const out = new Float32Array(count * 3 * S * S);
  for (let k = 0; k < count; k++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++)
          out[((k * 3 + c) * S + y) * S + x] = Math.floor(
            127.5 + 127.5 * Math.sin(0.11 * (k + 1) * x + 0.07 * (c + 1) * y + k + c),
          );
  return out;
}

async function maxParityDiff(runtime: InferenceRuntime): Promise<number> {
  const session = await runtime.createSession(readFileSync(MODEL_PATH), MODEL_PATH, { threads: 1 });
  try {
    const S = LANDMARK_INPUT_SIZE;
    const out = await session.run({
      [LANDMARK_IO.input]: { data: parityInputs(parity.count), dims: [parity.count, 3, S, S] },
    });
    const got = out[LANDMARK_IO.output].data;
    expect(got.length).toBe(parity.count * 136);
    let max = 0;
    parity.outputs.forEach((row, k) => {
      row.forEach((v, j) => {
        max = Math.max(max, Math.abs(got[k * 136 + j] - v));
      });
    });
    return max;
  } finally {
    await session.dispose();
  }
}

describe('ferkit-landmarks: the bundled model and its card', () => {
  it('is the default, listed by task, and its card matches the file and the stage contract', () => {
    expect(bundledModelNames('landmarks68')).toContain(DEFAULT_LANDMARK_MODEL);
    expect(bundledModelNames('expression')).not.toContain(DEFAULT_LANDMARK_MODEL);
    expect(card.task).toBe(LANDMARK_MODEL_TASK);
    expect(card.file).toBe(`${DEFAULT_LANDMARK_MODEL}.onnx`);
    expect(createHash('sha256').update(readFileSync(MODEL_PATH)).digest('hex')).toBe(card.sha256);
    expect(card.input.name).toBe(LANDMARK_IO.input);
    expect(card.input.shape.slice(1)).toEqual([3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE]);
    expect(card.output.name).toBe(LANDMARK_IO.output);
    expect(card.training.command).toContain('ferkit_train.landmarks.train');
    expect(card.training.data).toContain('AFW never used');
    expect(existsSync(join(bundledModelDir(), `${DEFAULT_LANDMARK_MODEL}.log.csv`))).toBe(true);
  });

  it("gives PyTorch's outputs on onnxruntime-node (within the fixture's 1e-4)", async () => {
    expect(parity.tolerance).toBeLessThanOrEqual(1e-4);
    expect(await maxParityDiff(nodeRuntime)).toBeLessThan(parity.tolerance);
  });

  it("gives PyTorch's outputs on onnxruntime-web's WASM engine, the browser's (within 1e-4)", async () => {
    const web = await createWebRuntime({ backend: 'wasm', threads: 1 });
    expect(await maxParityDiff(web)).toBeLessThan(parity.tolerance);
  });

  it('refuses a model with the wrong contract, naming it', async () => {
    const vgg = join(bundledModelDir(), 'ferkit-vgg.onnx');
    const attempt = createLandmarkModel(nodeRuntime, { model: readFileSync(vgg), source: vgg });
    await expect(attempt).rejects.toBeInstanceOf(FerkitError);
    await expect(attempt).rejects.toThrow(/ferkit-vgg\.onnx: not a ferkit landmark model/);
  });
});

describe('ferkit-landmarks through the Node stage', () => {
  let ferkit: LandmarkModel;
  let faceapi: LandmarkModel;
  beforeAll(async () => {
    ferkit = await createLandmarks(nodeRuntime, { threads: 1 });
    faceapi = await createLandmarks(nodeRuntime, { threads: 1 }, 'faceapi');
  });
  afterAll(async () => {
    await ferkit?.dispose();
    await faceapi?.dispose();
  });

  it('loads by default under its own name; face-api stays selectable', () => {
    expect(ferkit.name).toBe(DEFAULT_LANDMARK_MODEL);
    expect(faceapi.name).toBe('face-landmark-68');
  });

  it("puts 68 points on every demo face, inside the detector's box and near face-api's on most", async () => {
    const detector = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
    let faces = 0;
    const apart: number[] = [];
    try {
      for (let i = 1; i <= 6; i++) {
        const image = await decodeImage(join(DEMO, `sample${i}.jpg`));
        const boxes = (await detector.detect(image)).map((d) => d.box);
        const [ours, theirs] = [await ferkit.detect(image, boxes), await faceapi.detect(image, boxes)];
        boxes.forEach((b, f) => {
          faces++;
          expect(ours[f]).toHaveLength(68);
          // Same face, two models: a wrong crop or point mapping would put them a box apart.
          const mean =
            ours[f].reduce((s, [x, y], k) => s + Math.hypot(x - theirs[f][k][0], y - theirs[f][k][1]), 0) / 68;
          apart.push(mean / b.width);
          for (const [x, y] of ours[f]) {
            expect(x).toBeGreaterThan(b.x - 0.25 * b.width);
            expect(x).toBeLessThan(b.x + 1.25 * b.width);
            expect(y).toBeGreaterThan(b.y - 0.25 * b.height);
            expect(y).toBeLessThan(b.y + 1.25 * b.height);
          }
        });
      }
    } finally {
      await detector.dispose();
    }
    expect(faces).toBeGreaterThanOrEqual(18);
    // All but the face that issue 20 names (sample2's middle face, bowed and turned: face-api's points
    // collapse onto the nose, ferkit's follow the jaw and mouth) agree within 7 % of the box width (measured: 2–5 %).
    console.log(`ferkit vs face-api, mean point distance / box width: ${apart.map((d) => d.toFixed(3)).join(' ')}`);
    expect(apart.filter((d) => d < 0.07).length).toBeGreaterThanOrEqual(faces - 1);
    expect(Math.max(...apart)).toBeLessThan(0.3);
  });
});

const AFW_DIR = defaultAfwDir();
describe.skipIf(!existsSync(join(AFW_DIR, 'landmarks68.json')))('ferkit-landmarks on AFW (never trained on)', () => {
  it("beats face-api's net on the same SSD boxes of the first 40 photos", { timeout: 600_000 }, async () => {
    const report = await runAfwEvaluation({
      dir: AFW_DIR,
      limit: 40,
      detectors: [
        { kind: 'cnn', landmarks: 'ferkit' },
        { kind: 'cnn', landmarks: 'faceapi' },
      ],
    });
    const [ours, theirs] = report.summaries;
    expect(ours.label).not.toContain('landmarks');
    expect(theirs.label).toContain('faceapi landmarks');
    expect(ours.nme.faces).toBe(theirs.nme.faces);
    console.log(
      `AFW 40 photos, ${ours.nme.faces} faces: NME mean ferkit ${ours.nme.mean.toFixed(4)}, face-api ${theirs.nme.mean.toFixed(4)}`,
    );
    // Issue 20's target is ≤ 0.065 on all of AFW (0.0596 measured); face-api's reads 0.079 there.
    expect(ours.nme.mean).toBeLessThan(0.065);
    expect(ours.nme.mean).toBeLessThan(0.85 * theirs.nme.mean);
    expect(ours.nme.median).toBeLessThan(theirs.nme.median);
  });
});
