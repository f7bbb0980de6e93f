/**
 * ferkit's SSD stage against face-api itself (tfjs wasm backend) on the six demo photos: exact
 * parity at face-api's 512 input, and recall of the smaller default input size; plus the TF-legacy
 * resampling it relies on, option checks, and an informational timing on an 800-px photo.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFaceApiModels, faceApiWeightsDir } from '../src/convert/main.js';
import {
  createSsdDetector,
  SSD_DEFAULT_INPUT_SIZE,
  SSD_FIT_MULTIPLE,
  type SsdDetector,
  ssdInputShape,
} from '../src/detect/ssd.js';
import { FerkitError } from '../src/errors.js';
import { cropRgb, iou } from '../src/image/ops.js';
import { resampleBilinearTfPlanar } from '../src/image/resample-exact.js';
import { createLandmarkModel } from '../src/landmarks/landmark68.js';
import { nodeRuntime } from '../src/node/runtime.js';
import type { RgbImage } from '../src/types.js';
import { faceapi, loadSample, tf, toBox } from './helpers/faceapi.js';

/** The image mirrored about its diagonal: a landscape photo becomes a portrait one. */
function transposeImage(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) out[(x * height + y) * 3 + c] = data[(y * width + x) * 3 + c];
  return { width: height, height: width, data: out };
}

/** face-api's own size: must match face-api exactly. */
let detector: SsdDetector;
/** ferkit's default size (paths.ssd). */
let defaultDetector: SsdDetector;
let cacheDir = '';
let modelPaths: Awaited<ReturnType<typeof ensureFaceApiModels>>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceApiWeightsDir());
  // A fresh conversion (not the shared cache), so these tests always exercise the current converter.
  cacheDir = await mkdtemp(join(tmpdir(), 'ferkit-ssd-test-'));
  modelPaths = await ensureFaceApiModels(cacheDir, { ssdSizes: [512] });
  // face-api's own geometry: the padded 512 square (fit: false), so results can match face-api's exactly.
  detector = await createSsdDetector(nodeRuntime, {
    model: await readFile(modelPaths.ssdBySize[512].model),
    source: modelPaths.ssdBySize[512].model,
    fit: false,
  });
  defaultDetector = await createSsdDetector(nodeRuntime, {
    model: await readFile(modelPaths.ssd.model),
    source: modelPaths.ssd.model,
  });
});

afterAll(async () => {
  await detector?.dispose();
  await defaultDetector?.dispose();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

describe('resampleBilinearTfPlanar', () => {
  it("matches face-api's padToSquare + tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=false)", () => {
    const w = 37;
    const h = 23;
    const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 97 + (i >> 3) * 13) & 255);
    const img: RgbImage = { width: w, height: h, data };
    const cases = [
      { out: 16, centred: false }, // downscale, SSD-style padding (bottom)
      { out: 64, centred: true }, // upscale, landmark-style centred padding
      { out: 37, centred: true }, // same size: tfjs skips the resize; ours must be the identity
    ];
    for (const { out, centred } of cases) {
      const ref = tf.tidy(() => {
        const t = tf.tensor4d(data, [1, h, w, 3], 'int32');
        const padded = faceapi.padToSquare(t, centred);
        return padded.shape[1] === out ? padded : tf.image.resizeBilinear(padded, [out, out], false, false);
      });
      const refData: Float32Array = ref.dataSync();
      ref.dispose();
      const diff = w - h;
      const prepend = centred ? diff - Math.round(diff * 0.5) : 0;
      const ours = new Float32Array(3 * out * out);
      resampleBilinearTfPlanar(
        img,
        { x: 0, y: 0, width: w, height: h },
        { width: w, height: w, offsetX: 0, offsetY: prepend },
        out,
        out,
        ours,
      );
      let maxDiff = 0;
      for (let p = 0; p < out * out; p++) {
        for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(ours[c * out * out + p] - refData[p * 3 + c]));
      }
      expect(maxDiff, `out ${out}`).toBeLessThan(1e-3);
    }
  });
});

describe('SSD detector vs face-api', () => {
  it('matches every face face-api finds on the six sample photos (IoU ≥ 0.9, |Δscore| ≤ 0.01)', async () => {
    let faces = 0;
    let minIou = 1;
    let maxScoreDiff = 0;
    let defaultMatched = 0;
    for (let i = 1; i <= 6; i++) {
      const image = await loadSample(i);
      const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      const ref = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
      t.dispose();
      // face-api's NMS IoU is 0.5 (hard-coded in SsdMobilenetv1.locateFaces).
      const ours = await detector.detect(image, { scoreThreshold: 0.5, iouThreshold: 0.5 });
      const oursDefault = await detector.detect(image);
      const matched = new Set<number>();
      for (const r of ref) {
        const rb = toBox(r.box);
        let best = -1;
        ours.forEach((d, k) => {
          if (best < 0 || iou(d.box, rb) > iou(ours[best].box, rb)) best = k;
        });
        expect(best, `sample${i}: face-api face ${JSON.stringify(rb)} not found`).toBeGreaterThanOrEqual(0);
        const o = iou(ours[best].box, rb);
        const ds = Math.abs(ours[best].score - r.score);
        expect(o, `sample${i} IoU`).toBeGreaterThanOrEqual(0.9);
        expect(ds, `sample${i} score`).toBeLessThanOrEqual(0.01);
        matched.add(best);
        minIou = Math.min(minIou, o);
        maxScoreDiff = Math.max(maxScoreDiff, ds);
        if (oursDefault.some((d) => iou(d.box, rb) >= 0.9)) defaultMatched++;
      }
      // Nothing extra either, except possibly a borderline score that rounding put on the other side of 0.5.
      ours.forEach((d, k) => {
        if (!matched.has(k)) expect(d.score, `sample${i}: extra detection`).toBeLessThan(0.51);
      });
      faces += ref.length;
    }
    console.log(
      `[ssd] ${faces} face-api faces on 6 photos, all matched: min IoU ${minIou.toFixed(5)}, max |Δscore| ${maxScoreDiff.toExponential(2)}; ` +
        `${defaultMatched}/${faces} also with default iouThreshold 0.3`,
    );
    expect(faces).toBeGreaterThanOrEqual(6); // the comparison covered real faces
    expect(defaultMatched).toBe(faces);
  });

  it('maps boxes back to the original pixels for portrait as well as landscape inputs', async () => {
    // A portrait slice of a landscape photo must find its faces where the full photo has them:
    // catches swapped x/y padding factors, which only the padded (shorter) axis reveals.
    const image = await loadSample(2, 640);
    const full = await detector.detect(image);
    expect(full.length).toBeGreaterThan(0);
    const face = full[0].box;
    const sliceWidth = Math.round(image.height * 0.7);
    const x0 = Math.round(Math.min(Math.max(0, face.x + face.width / 2 - sliceWidth / 2), image.width - sliceWidth));
    const slice = cropRgb(image, { x: x0, y: 0, width: sliceWidth, height: image.height });
    expect(slice.height).toBeGreaterThan(slice.width);
    const inSlice = await detector.detect(slice);
    expect(inSlice.length).toBeGreaterThan(0);
    for (const d of inSlice) {
      const shifted = { ...d.box, x: d.box.x + x0 };
      expect(Math.max(...full.map((f) => iou(f.box, shifted)))).toBeGreaterThan(0.8);
    }
    expect(Math.max(...inSlice.map((d) => iou({ ...d.box, x: d.box.x + x0 }, face)))).toBeGreaterThan(0.8);
  });

  it('applies maxFaces and minFaceSize, rejects bad input, and refuses use after dispose', async () => {
    const image = await loadSample(5, 800);
    const all = await detector.detect(image);
    expect(all.length).toBeGreaterThan(1);
    expect(await detector.detect(image, { maxFaces: 1 })).toEqual([all[0]]);
    const minSide = Math.min(...all.map((d) => Math.min(d.box.width, d.box.height)));
    const big = await detector.detect(image, { minFaceSize: minSide + 1 });
    expect(big.length).toBeLessThan(all.length);
    expect(big.every((d) => Math.min(d.box.width, d.box.height) >= minSide + 1)).toBe(true);

    for (const bad of [{ scoreThreshold: 1 }, { iouThreshold: 0 }, { maxFaces: 0 }, { minFaceSize: -1 }]) {
      await expect(detector.detect(image, bad)).rejects.toMatchObject({ code: 'E_INPUT' });
    }
    await expect(detector.detect({ width: 10, height: 10, data: new Uint8Array(5) })).rejects.toMatchObject({
      code: 'E_INPUT',
    });

    const other = await createSsdDetector(nodeRuntime, { model: await readFile(modelPaths.ssdBySize[512].model) });
    await other.dispose();
    await expect(other.detect(image)).rejects.toBeInstanceOf(FerkitError);
    await expect(other.detect(image)).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });

  it('reads the input size from the model, runs the same weights at another size, and rejects a bad inputSize', async () => {
    expect(modelPaths.ssdInputSize).toBe(SSD_DEFAULT_INPUT_SIZE);
    expect(modelPaths.ssd).toEqual(modelPaths.ssdBySize[SSD_DEFAULT_INPUT_SIZE]);
    expect(detector.inputSize).toBe(512);
    expect(detector.fit).toBe(false);
    expect(defaultDetector.inputSize).toBe(SSD_DEFAULT_INPUT_SIZE);
    expect(defaultDetector.fit).toBe(true);
    // The graph's H × W are symbolic: the 512 file run at the default size finds what the default file finds.
    const model = await readFile(modelPaths.ssdBySize[512].model);
    const resized = await createSsdDetector(nodeRuntime, { model, inputSize: SSD_DEFAULT_INPUT_SIZE });
    expect(resized.inputSize).toBe(SSD_DEFAULT_INPUT_SIZE);
    const image = await loadSample(3, 800);
    const a = await resized.detect(image);
    const b = await defaultDetector.detect(image);
    await resized.dispose();
    expect(a.length).toBe(b.length);
    a.forEach((d, k) => {
      expect(iou(d.box, b[k].box)).toBeGreaterThan(0.999);
      expect(Math.abs(d.score - b[k].score)).toBeLessThan(1e-4);
    });
    await expect(createSsdDetector(nodeRuntime, { model, inputSize: 0 })).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(createSsdDetector(nodeRuntime, { model, inputSize: 31.5 })).rejects.toMatchObject({ code: 'E_INPUT' });
  });

  it("fit: runs at the image's aspect ratio on fewer pixels and finds the same faces as the padded square", async () => {
    const model = await readFile(modelPaths.ssd.model);
    const square = await createSsdDetector(nodeRuntime, { model, fit: false });
    let faces = 0;
    let sideways = 0;
    for (let i = 1; i <= 6; i++) {
      for (const portrait of [false, true]) {
        let image = await loadSample(i, 800);
        if (portrait) image = transposeImage(image);
        const geometry = ssdInputShape(image.width, image.height, SSD_DEFAULT_INPUT_SIZE, true);
        const [long, short] = portrait ? [geometry.height, geometry.width] : [geometry.width, geometry.height];
        expect(long).toBe(SSD_DEFAULT_INPUT_SIZE);
        expect(short % SSD_FIT_MULTIPLE).toBe(0);
        expect(short).toBeLessThan(SSD_DEFAULT_INPUT_SIZE); // every demo photo is wider than tall
        expect(short).toBeGreaterThanOrEqual((SSD_DEFAULT_INPUT_SIZE * Math.min(image.width, image.height)) / 800);
        const fitted = await defaultDetector.detect(image);
        const padded = await square.detect(image);
        expect(fitted.length, `sample${i}${portrait ? ' portrait' : ''}`).toBe(padded.length);
        for (const p of padded) {
          const best = Math.max(...fitted.map((f) => iou(f.box, p.box)));
          expect(best, `sample${i}${portrait ? ' portrait' : ''}`).toBeGreaterThan(0.9);
        }
        faces += padded.length;
        if (portrait) sideways += padded.length;
      }
    }
    await square.dispose();
    // All 22 upright faces; the transposed photos' faces lie on their side, and the SSD finds some of them.
    expect(faces - sideways).toBeGreaterThanOrEqual(22);
    expect(sideways).toBeGreaterThan(0);
  });

  it(`default size ${SSD_DEFAULT_INPUT_SIZE}: finds ≥ 95% of face-api's 512 faces at IoU ≥ 0.5 on the 800-px demo photos`, async () => {
    let faces = 0;
    let found = 0;
    let extra = 0;
    for (let i = 1; i <= 6; i++) {
      const image = await loadSample(i, 800);
      const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      const ref = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
      t.dispose();
      const ours = await defaultDetector.detect(image);
      const used = new Set<number>();
      // biome-ignore lint/suspicious/noExplicitAny: face-api result objects
      for (const r of ref as any[]) {
        const rb = toBox(r.box);
        let best = -1;
        ours.forEach((d, k) => {
          if (!used.has(k) && iou(d.box, rb) >= 0.5 && (best < 0 || iou(d.box, rb) > iou(ours[best].box, rb))) best = k;
        });
        if (best >= 0) used.add(best);
        found += best >= 0 ? 1 : 0;
      }
      faces += ref.length;
      extra += ours.length - used.size;
    }
    console.log(
      `[ssd] default ${SSD_DEFAULT_INPUT_SIZE}: ${found}/${faces} of face-api's 512 faces at IoU ≥ 0.5, ${extra} other detections`,
    );
    expect(faces).toBeGreaterThanOrEqual(20);
    expect(found / faces).toBeGreaterThanOrEqual(0.95);
    expect(extra).toBeLessThanOrEqual(2);
  });

  it('timing: SSD (512 and default size) + landmarks on an 800-px photo (informational)', async () => {
    const image = await loadSample(1, 800);
    const landmarks = await createLandmarkModel(nodeRuntime, { model: await readFile(modelPaths.landmark68.model) });
    const ssd512Ms: number[] = [];
    const ssdMs: number[] = [];
    const lmMs: number[] = [];
    let cpuMs = 0;
    let faces = 0;
    for (let k = 0; k < 7; k++) {
      const s0 = performance.now();
      await detector.detect(image);
      const s1 = performance.now();
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const dets = await defaultDetector.detect(image);
      const t1 = performance.now();
      await landmarks.detect(
        image,
        dets.map((d) => d.box),
      );
      const t2 = performance.now();
      const used = process.cpuUsage(cpu);
      if (k >= 2) {
        ssd512Ms.push(s1 - s0);
        ssdMs.push(t1 - t0);
        lmMs.push(t2 - t1);
        cpuMs += (used.user + used.system) / 1000 / 5;
      }
      faces = dets.length;
    }
    await landmarks.dispose();
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
    console.log(
      `[timing] ${image.width}x${image.height}, ${faces} faces, onnxruntime-node: SSD@${SSD_DEFAULT_INPUT_SIZE} ${median(ssdMs).toFixed(1)} ms ` +
        `(SSD@512 ${median(ssd512Ms).toFixed(1)} ms) + landmarks ${median(lmMs).toFixed(1)} ms ` +
        `(median of 5 after 2 warm-ups; ${cpuMs.toFixed(0)} ms CPU per frame at the default size)`,
    );
    expect(faces).toBeGreaterThan(0);
  });
});
