/**
 * ferkit's TinyFaceDetector (converted by src/convert/faceapi-tiny.ts, decoded by src/detect/tiny.ts)
 * against face-api's own TinyFaceDetector (tfjs wasm backend): raw head on an identical input tensor,
 * pre-processing, and final detections on the six demo photos (plus a portrait crop) at 416 and 320.
 * Then recall against face-api's SSD MobileNetV1 faces at 320 / 416 / 512 and single-thread timings
 * on 800-px photos, both printed as tables.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTinyFaceDetectorOnnx,
  convertTinyFaceDetector,
  tinyFaceDetectorMacs,
  tinyModelFile,
} from '../src/convert/faceapi-tiny.js';
import { hashFaceApiWeights, readFaceApiWeights } from '../src/convert/faceapi-weights.js';
import { faceApiWeightsDir } from '../src/convert/main.js';
import { createTinyFaceDetector, TINY_IO, type TinyDetector, tinyInputTensor } from '../src/detect/tiny.js';
import { FerkitError } from '../src/errors.js';
import { detectorInputGeometry } from '../src/image/detector-input.js';
import { cropRgb, iou } from '../src/image/ops.js';
import { nodeRuntime } from '../src/node/runtime.js';
import type { Box, RgbImage } from '../src/types.js';
import { faceapi, loadSample, tf, toBox } from './helpers/faceapi.js';

const SIZES = [320, 416, 512] as const;
const PARITY_SIZES = [416, 320] as const;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

let dir = '';
const models = new Map<number, Uint8Array>();
const detectors = new Map<number, TinyDetector>();
/** Full-resolution samples 1..6, then a portrait crop of sample 2 (exercises the x correction factor). */
const images: { name: string; image: RgbImage }[] = [];

async function faceApiTiny(image: RgbImage, inputSize: number) {
  const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    const opts = new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: 0.5 });
    // biome-ignore lint/suspicious/noExplicitAny: face-api result objects
    return ((await faceapi.detectAllFaces(t, opts)) as any[]).map((r) => ({
      box: toBox(r.box),
      score: r.score as number,
    }));
  } finally {
    t.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.tinyFaceDetector.loadFromDisk(faceApiWeightsDir());
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceApiWeightsDir());
  dir = await mkdtemp(join(tmpdir(), 'ferkit-tiny-test-'));
  for (const size of SIZES) {
    const files = await convertTinyFaceDetector(faceApiWeightsDir(), dir, size);
    const bytes = new Uint8Array(await readFile(files.model));
    models.set(size, bytes);
    // face-api's padded square (fit: false), so results can match face-api's exactly.
    detectors.set(
      size,
      await createTinyFaceDetector(nodeRuntime, { model: bytes, source: files.model, threads: 1, fit: false }),
    );
  }
  for (let i = 1; i <= 6; i++) images.push({ name: `sample${i}`, image: await loadSample(i) });
  const wide = images[1].image;
  const w = Math.round(wide.height * 0.6);
  images.push({
    name: 'sample2-portrait',
    image: cropRgb(wide, { x: Math.round((wide.width - w) / 2), y: 0, width: w, height: wide.height }),
  });
});

afterAll(async () => {
  for (const d of detectors.values()) await d.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tiny face detector conversion', () => {
  it('writes the model and a card that describes it', async () => {
    const card = JSON.parse(await readFile(join(dir, tinyModelFile(416).replace(/\.onnx$/, '.json')), 'utf8'));
    const { createHash } = await import('node:crypto');
    expect(card).toMatchObject({
      format: 'ferkit-model-card/1',
      id: 'faceapi-tiny-face-detector-416',
      file: 'tiny_face_detector_416.onnx',
      sha256: createHash('sha256')
        .update(models.get(416) as Uint8Array)
        .digest('hex'),
      bytes: models.get(416)?.length,
      converter: { file: 'src/convert/faceapi-tiny.ts' },
      source: { package: '@vladmandic/face-api', manifest: 'tiny_face_detector_model-weights_manifest.json' },
      input: { name: 'input', shape: ['N', 3, 'H', 'W'], inputSize: 416, pixelRange: [0, 255] },
      outputs: [{ name: TINY_IO.output, shape: ['N', 'H/32', 'W/32', 5, 5] }],
    });
    expect(card.source.sha256).toBe(
      await hashFaceApiWeights(join(faceApiWeightsDir(), 'tiny_face_detector_model-weights_manifest.json')),
    );
    expect(card.source.version).toMatch(/^\d+\.\d+\.\d+/);
    // the cost that motivates this detector: ~16x fewer multiply-adds than the SSD at 512 (3.22 G)
    expect(tinyFaceDetectorMacs(416)).toBeGreaterThan(0.15e9);
    expect(tinyFaceDetectorMacs(416)).toBeLessThan(0.25e9);
  });

  it('rejects other weights and bad sizes', async () => {
    const ssd = await readFaceApiWeights(join(faceApiWeightsDir(), 'ssd_mobilenetv1_model-weights_manifest.json'));
    expect(() => buildTinyFaceDetectorOnnx(ssd.tensors, 416)).toThrow(/conv0\/filters is missing/);
    await expect(convertTinyFaceDetector(faceApiWeightsDir(), dir, 400)).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(convertTinyFaceDetector(dir, dir, 416)).rejects.toMatchObject({ code: 'E_MODEL' });
  });

  it("raw head and input tensor equal face-api's (1e-4 on an identical input)", async () => {
    const lines: string[] = [];
    for (const size of PARITY_SIZES) {
      const session = await nodeRuntime.createSession(models.get(size) as Uint8Array, 'tiny', { threads: 1 });
      let maxHead = 0;
      let maxInput = 0;
      let maxAbs = 0;
      for (const k of [0, 2, 6]) {
        const { image } = images[k];
        const planar = tinyInputTensor(image, size);
        // face-api's own input tensor for this image: NetInput.toBatchTensor(S, false).
        const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
        const netInput = await faceapi.toNetInput(t);
        const batch = netInput.toBatchTensor(size, false);
        const ref: Float32Array = batch.dataSync();
        batch.dispose();
        t.dispose();
        const plane = size * size;
        for (let p = 0; p < plane; p++)
          for (let c = 0; c < 3; c++) maxInput = Math.max(maxInput, Math.abs(planar[c * plane + p] - ref[p * 3 + c]));

        // Both networks on the SAME tensor (ours, NHWC for face-api; already S x S so no resize there).
        const nhwc = new Float32Array(3 * plane);
        for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) nhwc[p * 3 + c] = planar[c * plane + p];
        const x = tf.tensor4d(nhwc, [1, size, size, 3], 'float32');
        const y = await faceapi.nets.tinyFaceDetector.forward(x, size);
        expect(y.shape).toEqual([1, size / 32, size / 32, 25]);
        const expected: Float32Array = y.dataSync();
        x.dispose();
        y.dispose();
        const out = await session.run({ [TINY_IO.input]: { data: planar, dims: [1, 3, size, size] } });
        const got = out[TINY_IO.output];
        expect(got.dims).toEqual([1, size / 32, size / 32, 5, 5]);
        expect(got.data.length).toBe(expected.length);
        for (let i = 0; i < expected.length; i++) {
          maxHead = Math.max(maxHead, Math.abs(got.data[i] - expected[i]));
          maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
        }
      }
      await session.dispose();
      lines.push(
        `S=${size}: max |Δhead| ${maxHead.toExponential(2)} (values up to ${maxAbs.toFixed(1)}), max |Δinput| ${maxInput.toExponential(2)}`,
      );
      expect(maxAbs).toBeGreaterThan(1); // a real, non-degenerate head
      expect(maxHead, `S=${size} head`).toBeLessThan(1e-4);
      // tfjs maps output→source coordinates in float32, ours in float64: ~1e-2 of 255 on a 1920-px photo.
      expect(maxInput, `S=${size} input`).toBeLessThan(2e-2);
    }
    console.log(`[tiny parity] raw head vs face-api, 3 images each:\n  ${lines.join('\n  ')}`);
  });
});

describe('tiny face detector vs face-api', () => {
  it('matches every face face-api finds (IoU ≥ 0.9, |Δscore| ≤ 0.01) at 416 and 320', async () => {
    const lines: string[] = [];
    for (const size of PARITY_SIZES) {
      const detector = detectors.get(size) as TinyDetector;
      let faces = 0;
      let minIou = 1;
      let maxScoreDiff = 0;
      for (const { name, image } of images) {
        const ref = await faceApiTiny(image, size);
        const ours = await detector.detect(image, { scoreThreshold: 0.5 });
        const matched = new Set<number>();
        for (const r of ref) {
          let best = -1;
          ours.forEach((d, k) => {
            if (best < 0 || iou(d.box, r.box) > iou(ours[best].box, r.box)) best = k;
          });
          expect(best, `${name}@${size}: face-api face ${JSON.stringify(r.box)} not found`).toBeGreaterThanOrEqual(0);
          const o = iou(ours[best].box, r.box);
          const ds = Math.abs(ours[best].score - r.score);
          expect(o, `${name}@${size} IoU`).toBeGreaterThanOrEqual(0.9);
          expect(ds, `${name}@${size} score`).toBeLessThanOrEqual(0.01);
          matched.add(best);
          minIou = Math.min(minIou, o);
          maxScoreDiff = Math.max(maxScoreDiff, ds);
        }
        // Nothing extra, except possibly a borderline score that rounding put on the other side of 0.5.
        ours.forEach((d, k) => {
          if (!matched.has(k)) expect(d.score, `${name}@${size}: extra detection`).toBeLessThan(0.51);
        });
        faces += ref.length;
      }
      lines.push(
        `S=${size}: ${faces} face-api faces on ${images.length} images, all matched: min IoU ${minIou.toFixed(5)}, max |Δscore| ${maxScoreDiff.toExponential(2)}`,
      );
      expect(faces).toBeGreaterThanOrEqual(6); // the comparison covered real faces
    }
    console.log(`[tiny parity] detections vs face-api TinyFaceDetector:\n  ${lines.join('\n  ')}`);
  });

  it("recall of face-api's SSD MobileNetV1 faces (minConfidence 0.5) per input size", async () => {
    const ssd: Box[][] = [];
    for (const { image } of images.slice(0, 6)) {
      const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      // biome-ignore lint/suspicious/noExplicitAny: face-api result objects
      const r: any[] = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
      t.dispose();
      ssd.push(r.map((d) => toBox(d.box)));
    }
    const total = ssd.reduce((s, b) => s + b.length, 0);
    /** Greedy one-to-one matching, best IoU first: the matched (ssd, tiny) pairs with IoU ≥ minIou. */
    const match = (gt: Box[], found: Box[], minIou: number): [Box, Box][] => {
      const pairs: [number, number, number][] = [];
      gt.forEach((g, gi) => {
        found.forEach((d, di) => {
          pairs.push([iou(g, d), gi, di]);
        });
      });
      pairs.sort((a, b) => b[0] - a[0]);
      const usedG = new Set<number>();
      const usedD = new Set<number>();
      const out: [Box, Box][] = [];
      for (const [o, gi, di] of pairs) {
        if (o < minIou || usedG.has(gi) || usedD.has(di)) continue;
        usedG.add(gi);
        usedD.add(di);
        out.push([gt[gi], found[di]]);
      }
      return out;
    };
    /** SSD box relative to the tiny box: centre offsets in tiny widths/heights, and size ratios. */
    const geometry = ([g, d]: [Box, Box]) => [
      (g.x + g.width / 2 - (d.x + d.width / 2)) / d.width,
      (g.y + g.height / 2 - (d.y + d.height / 2)) / d.height,
      g.width / d.width,
      g.height / d.height,
    ];
    const reshape = (d: Box, [dx, dy, sw, sh]: number[]): Box => {
      const cx = d.x + d.width / 2 + dx * d.width;
      const cy = d.y + d.height / 2 + dy * d.height;
      return { x: cx - (sw * d.width) / 2, y: cy - (sh * d.height) / 2, width: sw * d.width, height: sh * d.height };
    };
    const rows: string[] = [];
    const recall = new Map<number, { at05: number; at03: number; calibrated: number }>();
    for (const size of SIZES) {
      const detector = detectors.get(size) as TinyDetector;
      const found: Box[][] = [];
      for (let k = 0; k < 6; k++) found.push((await detector.detect(images[k].image)).map((d) => d.box));
      const count = (minIou: number, boxes = found) =>
        ssd.reduce((s, g, k) => s + match(g, boxes[k], minIou).length, 0);
      const at05 = count(0.5);
      const at03 = count(0.3);
      // Leave-one-photo-out: a fixed box reshaping (median geometry of the other 5 photos' pairs) → IoU ≥ 0.5?
      const calibratedBoxes = found.map((boxes, k) => {
        const geo = ssd.flatMap((g, j) => (j === k ? [] : match(g, found[j], 0.3).map(geometry)));
        const med = [0, 1, 2, 3].map((c) => median(geo.map((v) => v[c])));
        return boxes.map((b) => reshape(b, med));
      });
      const calibrated = count(0.5, calibratedBoxes);
      const geo = ssd.flatMap((g, k) => match(g, found[k], 0.3).map(geometry));
      const med = [0, 1, 2, 3].map((c) => median(geo.map((v) => v[c])));
      recall.set(size, { at05: at05 / total, at03: at03 / total, calibrated: calibrated / total });
      const cell = (n: number) => `${n}/${total} ${(n / total).toFixed(2)}`.padEnd(13);
      rows.push(
        `  ${String(size).padEnd(6)}${cell(at05)}${cell(at03)}${cell(calibrated)}${String(found.flat().length).padEnd(7)}` +
          `w ${med[2].toFixed(2)} h ${med[3].toFixed(2)} dy ${med[1].toFixed(2)} dx ${med[0].toFixed(2)}`,
      );
    }
    console.log(
      `[tiny recall] face-api SSD faces (minConfidence 0.5) on sample1..6 matched one-to-one by the tiny detector (score > 0.5):\n` +
        `  size  IoU≥0.5      IoU≥0.3      IoU≥0.5 cal  found  SSD box vs tiny box (median: size ratio, centre offset in tiny box units)\n` +
        `${rows.join('\n')}\n` +
        '  (cal: tiny boxes reshaped by the median geometry of the OTHER five photos — leave-one-photo-out)',
    );
    expect(total).toBeGreaterThanOrEqual(6);
    // The tiny detector finds most SSD faces; its boxes are a different shape (wider, lower), so IoU ≥ 0.5 is rarer.
    expect(recall.get(416)?.at03).toBeGreaterThanOrEqual(0.75);
  });

  it('timing: single thread, ms per 800-px photo (informational)', async () => {
    const photos: RgbImage[] = [];
    for (let i = 1; i <= 6; i++) photos.push(await loadSample(i, 800));
    const wall = new Map<number, number[]>(SIZES.map((s) => [s, []]));
    const cpu = new Map<number, number[]>(SIZES.map((s) => [s, []]));
    const faces = new Map<number, number>(SIZES.map((s) => [s, 0]));
    const rounds = 3;
    for (let r = 0; r < rounds + 1; r++) {
      for (const photo of photos) {
        for (const size of r % 2 ? [...SIZES].reverse() : SIZES) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const dets = await (detectors.get(size) as TinyDetector).detect(photo);
          const ms = performance.now() - t0;
          const c = process.cpuUsage(c0);
          if (r > 0) {
            wall.get(size)?.push(ms);
            cpu.get(size)?.push((c.user + c.system) / 1000);
            if (r === 1) faces.set(size, (faces.get(size) ?? 0) + dets.length);
          }
        }
      }
    }
    const rows = SIZES.map(
      (s) =>
        `  ${String(s).padEnd(6)}${median(wall.get(s) as number[])
          .toFixed(1)
          .padStart(7)} ms  ${median(cpu.get(s) as number[])
          .toFixed(1)
          .padStart(7)} ms   ` +
        `${(tinyFaceDetectorMacs(s) / 1e9).toFixed(2)} G MACs   ${faces.get(s)} faces on 6 photos`,
    );
    console.log(
      `[tiny timing] onnxruntime-node, 1 thread, whole detect() (pre-processing + inference + decoding) on 800-px photos, ` +
        `median of ${rounds}x6 alternated runs (process CPU time is the figure that survives a loaded machine):\n` +
        `  size     wall      CPU\n${rows.join('\n')}`,
    );
    for (const s of SIZES) expect(faces.get(s)).toBeGreaterThan(0);
  });
});

describe('tiny face detector stage', () => {
  it("fit: runs at the image's aspect ratio (multiples of 32) and finds the faces of the padded square", async () => {
    const model = models.get(416) as Uint8Array;
    const fitted = await createTinyFaceDetector(nodeRuntime, { model, threads: 1 });
    expect(fitted.fit).toBe(true);
    const square = detectors.get(416) as TinyDetector;
    let faces = 0;
    let matched = 0;
    for (const { name, image } of images) {
      const g = detectorInputGeometry(image, 416, true, 32);
      expect(Math.max(g.width, g.height), name).toBe(416);
      expect((g.width % 32) + (g.height % 32), name).toBe(0);
      expect(Math.min(g.width, g.height), name).toBeLessThan(416); // none of the photos is square
      const a = await square.detect(image);
      const b = await fitted.detect(image);
      for (const d of a) {
        faces++;
        if (b.some((e) => iou(d.box, e.box) >= 0.7)) matched++;
      }
      expect(Math.abs(a.length - b.length), name).toBeLessThanOrEqual(1);
    }
    await fitted.dispose();
    console.log(`[tiny] fit vs square at 416: ${matched}/${faces} square faces matched at IoU ≥ 0.7`);
    expect(faces).toBeGreaterThanOrEqual(20);
    expect(matched / faces).toBeGreaterThanOrEqual(0.9);
  });

  it('applies maxFaces and minFaceSize, rejects bad input, checks the input size, refuses use after dispose', async () => {
    const detector = detectors.get(416) as TinyDetector;
    expect(detector.name).toBe('tiny-face-detector');
    expect(detector.inputSize).toBe(416);
    const image = images[4].image;
    const all = await detector.detect(image);
    expect(all.length).toBeGreaterThan(1);
    for (let k = 1; k < all.length; k++) expect(all[k].score).toBeLessThanOrEqual(all[k - 1].score);
    expect(await detector.detect(image, { maxFaces: 1 })).toEqual([all[0]]);
    const minSide = Math.min(...all.map((d) => Math.min(d.box.width, d.box.height)));
    const big = await detector.detect(image, { minFaceSize: minSide + 1 });
    expect(big.length).toBeLessThan(all.length);
    expect(big.every((d) => Math.min(d.box.width, d.box.height) >= minSide + 1)).toBe(true);
    const lower = await detector.detect(image, { scoreThreshold: 0.2 });
    expect(lower.length).toBeGreaterThanOrEqual(all.length);

    for (const bad of [{ scoreThreshold: 1 }, { iouThreshold: 0 }, { maxFaces: 0 }, { minFaceSize: -1 }]) {
      await expect(detector.detect(image, bad)).rejects.toMatchObject({ code: 'E_INPUT' });
    }
    await expect(detector.detect({ width: 10, height: 10, data: new Uint8Array(5) })).rejects.toMatchObject({
      code: 'E_INPUT',
    });

    const model = models.get(320) as Uint8Array;
    // H × W are symbolic: the 320 file run at 416 finds what the 416 file finds.
    const resized = await createTinyFaceDetector(nodeRuntime, { model, inputSize: 416, fit: false });
    expect(resized.inputSize).toBe(416);
    expect(await resized.detect(image)).toEqual(all);
    await resized.dispose();
    await expect(createTinyFaceDetector(nodeRuntime, { model, inputSize: 300 })).rejects.toMatchObject({
      code: 'E_INPUT',
    });
    const other = await createTinyFaceDetector(nodeRuntime, { model });
    expect(other.inputSize).toBe(320);
    expect(other.fit).toBe(true);
    await other.dispose();
    await expect(other.detect(image)).rejects.toBeInstanceOf(FerkitError);
    await expect(other.detect(image)).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });
});
