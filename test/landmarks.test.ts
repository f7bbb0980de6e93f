/**
 * ferkit's 68-point landmark stage against face-api's FaceLandmark68Net (tfjs wasm backend): on
 * face-api's own SSD boxes in the six demo photos, and on hand-made boxes that exercise clipping and
 * padding along either axis.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFaceApiModels, faceApiWeightsDir } from '../src/convert/main.js';
import { createLandmarkModel, type LandmarkModel } from '../src/landmarks/landmark68.js';
import { nodeRuntime } from '../src/node/runtime.js';
import type { Box, Point } from '../src/types.js';
import { faceapi, loadSample, tf } from './helpers/faceapi.js';

/** Max and mean point distance between two 68-point sets, as a fraction of `size`. */
function pointError(ours: Point[], ref: { x: number; y: number }[], size: number): { max: number; mean: number } {
  expect(ours).toHaveLength(68);
  expect(ref).toHaveLength(68);
  let max = 0;
  let sum = 0;
  ours.forEach(([x, y], k) => {
    const e = Math.hypot(x - ref[k].x, y - ref[k].y);
    max = Math.max(max, e);
    sum += e;
  });
  return { max: max / size, mean: sum / 68 / size };
}

let model: LandmarkModel;
let cacheDir = '';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceApiWeightsDir());
  await faceapi.nets.faceLandmark68Net.loadFromDisk(faceApiWeightsDir());
  // A fresh conversion (not the shared cache), so these tests always exercise the current converter.
  cacheDir = await mkdtemp(join(tmpdir(), 'ferkit-landmarks-test-'));
  const paths = await ensureFaceApiModels(cacheDir);
  // maxBatch 2 so that the photos with 3-5 faces also exercise splitting into several batches.
  model = await createLandmarkModel(nodeRuntime, {
    model: await readFile(paths.landmark68.model),
    source: paths.landmark68.model,
    maxBatch: 2,
  });
});

afterAll(async () => {
  await model?.dispose();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

describe('68-point landmarks vs face-api', () => {
  it("match detectAllFaces().withFaceLandmarks() on face-api's own boxes in the six photos (≤ 1% of the box)", async () => {
    let faces = 0;
    let worstMax = 0;
    let worstMean = 0;
    let sumMean = 0;
    for (let i = 1; i <= 6; i++) {
      const image = await loadSample(i);
      const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      const ref = await faceapi
        .detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }))
        .withFaceLandmarks();
      t.dispose();
      // biome-ignore lint/suspicious/noExplicitAny: face-api result objects
      const boxes: Box[] = ref.map((r: any) => {
        const b = r.detection.box;
        return { x: b.x, y: b.y, width: b.width, height: b.height };
      });
      const ours = await model.detect(image, boxes);
      expect(ours).toHaveLength(ref.length);
      ref.forEach((r: { landmarks: { positions: { x: number; y: number }[] } }, k: number) => {
        const size = Math.min(boxes[k].width, boxes[k].height);
        const e = pointError(ours[k], r.landmarks.positions, size);
        expect(e.max, `sample${i} face ${k} max`).toBeLessThanOrEqual(0.01);
        expect(e.mean, `sample${i} face ${k} mean`).toBeLessThanOrEqual(0.01);
        worstMax = Math.max(worstMax, e.max);
        worstMean = Math.max(worstMean, e.mean);
        sumMean += e.mean;
      });
      faces += ref.length;
    }
    console.log(
      `[landmarks] ${faces} faces on 6 photos: max point error ${(worstMax * 100).toExponential(2)}% of the box's shorter side, ` +
        `mean ${((sumMean / faces) * 100).toExponential(2)}% (worst face mean ${(worstMean * 100).toExponential(2)}%)`,
    );
    expect(faces).toBeGreaterThanOrEqual(6);
  });

  it("match face-api's crop/pad/resize for boxes that need clipping and padding on either axis", async () => {
    const image = await loadSample(1);
    const { width: W, height: H } = image;
    const boxes: Box[] = [
      { x: 301.7, y: 140.2, width: 260.9, height: 171.3 }, // wider than tall: pads rows (top/bottom)
      { x: 310.4, y: 120.6, width: 181.5, height: 301.2 }, // taller than wide, odd difference: pads columns
      { x: W - 150.5, y: H - 99.25, width: 300, height: 250 }, // over the right/bottom edges: clipped
      { x: 0, y: 0, width: 112, height: 112 }, // exactly the input size: no resize
      { x: -40.3, y: -20.7, width: 200, height: 230 }, // over the left/top edges: clipped
    ];
    const ours = await model.detect(image, boxes);
    const t = tf.tensor3d(image.data, [H, W, 3], 'int32');
    for (const [k, box] of boxes.entries()) {
      const [face] = await faceapi.extractFaceTensors(t, [new faceapi.Rect(box.x, box.y, box.width, box.height)]);
      const lm = await faceapi.nets.faceLandmark68Net.detectLandmarks(face);
      face.dispose();
      // extendWithFaceLandmarks shifts by the box origin; for a box left of/above the image face-api
      // shifts by the unclipped (negative) origin, which misplaces the points; ferkit, by design, uses
      // the clipped one (see landmark68.ts), so compare with that.
      const ref = lm.shiftBy(Math.max(box.x, 0), Math.max(box.y, 0)).positions;
      const e = pointError(ours[k], ref, Math.min(box.width, box.height));
      expect(e.max, `box ${k}`).toBeLessThan(1e-4);
    }
    t.dispose();
  });

  it('give the same points whatever the batch, and nothing for a box outside the image', async () => {
    const image = await loadSample(3);
    const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    const dets = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
    t.dispose();
    // biome-ignore lint/suspicious/noExplicitAny: face-api result objects
    const boxes: Box[] = dets.map((d: any) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height }));
    expect(boxes.length).toBeGreaterThanOrEqual(3);
    const outside: Box = { x: image.width + 10, y: 5, width: 50, height: 50 };
    const all = await model.detect(image, [boxes[0], outside, boxes[1], boxes[2]]);
    expect(all[1]).toEqual([]);
    const single = await model.detect(image, [boxes[2]]);
    const diff = Math.max(...single[0].map(([x, y], j) => Math.hypot(x - all[3][j][0], y - all[3][j][1])));
    expect(diff).toBeLessThan(1e-3);
    expect(await model.detect(image, [])).toEqual([]);
    await expect(model.detect(image, [{ x: Number.NaN, y: 0, width: 1, height: 1 }])).rejects.toMatchObject({
      code: 'E_INPUT',
    });
  });
});
