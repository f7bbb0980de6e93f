/**
 * ferkit's port of dlib's HOG frontal face detector (src/detect/dlib-hog/) against dlib itself: the
 * reference program test/dlib-ref/hog.cpp, built in the test against Debian's libdlib-dev, runs
 * get_frontal_face_detector() on the same raw RGB pixels with the same upsampling as dlib's Python
 * API. Compared: face-api's six demo photos at 800 px with upsample 0 and 1, and synthesised cases
 * (a tilted photo, small faces, several faces tiled, an image without a face, an image smaller than
 * the detection window). Expected: the same detections in the same order, rectangles equal and
 * confidences equal (the port reproduces dlib's float32 arithmetic). Skips, saying so, only when
 * libdlib-dev is not installed (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DlibHogRunner } from '../src/detect/dlib-hog/detect.js';
import {
  type DlibHogDetector,
  type DlibHogModel,
  dlibHogScore,
  parseDlibHogModel,
} from '../src/detect/dlib-hog/index.js';
import { FerkitError } from '../src/errors.js';
import { afwAvailable, defaultAfwDir, detectorLabel, runAfwEvaluation } from '../src/eval/afw.js';
import { createDlibHogDetector, loadDlibHogModel } from '../src/node/dlib-hog.js';
import {
  buildDlibHogReference,
  type DlibReferenceDetection,
  runDlibHogReference,
} from '../src/node/dlib-hog-reference.js';
import { DLIB_INCLUDE_DIR } from '../src/node/dlib-native.js';
import type { RgbImage } from '../src/types.js';
import { loadSample } from './helpers/faceapi.js';

const HAVE_DLIB = existsSync(DLIB_INCLUDE_DIR);
if (!HAVE_DLIB)
  console.warn(
    `dlib-hog.test.ts: SKIPPED — ${DLIB_INCLUDE_DIR} missing (apt-get install libdlib-dev libblas-dev liblapack-dev)`,
  );

let reference = '';
let detector: DlibHogDetector;
let model: DlibHogModel;
let tmp = '';
const photos: RgbImage[] = [];

async function fromSharp(s: sharp.Sharp): Promise<RgbImage> {
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

const rgbSharp = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

/** Ours and dlib's detections for one image and upsampling: same rectangles, confidences, filters, order. */
async function expectSameAsDlib(image: RgbImage, upsample: number, ours = detector.detectRaw(image, upsample, 0)) {
  const theirs: DlibReferenceDetection[] = (await runDlibHogReference(reference, image, upsample)).detections;
  expect(ours.map((d) => d.rect)).toEqual(theirs.map((d) => d.rect));
  expect(ours.map((d) => d.weightIndex)).toEqual(theirs.map((d) => d.weightIndex));
  ours.forEach((d, i) => {
    expect(Math.abs(d.confidence - theirs[i].confidence)).toBeLessThan(1e-9);
  });
  return theirs;
}

describe.skipIf(!HAVE_DLIB)('dlib HOG face detector vs dlib 19.24', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'ferkit-dlib-hog-test-'));
    [reference, detector] = await Promise.all([buildDlibHogReference(), createDlibHogDetector()]);
    model = detector.model;
    for (let i = 1; i <= 6; i++) photos.push(await loadSample(i, 800));
  }, 240_000);

  afterAll(async () => {
    detector?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("reads dlib's model: 5 filters of 31 fHOG planes, 10×10 cells, 80×80-pixel windows", () => {
    expect(model.filters).toHaveLength(5);
    expect([model.cellSize, model.filterWidth, model.filterHeight, model.windowWidth]).toEqual([8, 10, 10, 80]);
    for (const f of model.filters) {
      expect(new Set(f.terms.map((t) => t.plane)).size).toBe(31);
      expect(f.threshold).toBeGreaterThan(0);
    }
  });

  for (const upsample of [0, 1]) {
    it(`finds exactly dlib's faces on the six demo photos (800 px), upsample ${upsample}`, async () => {
      let total = 0;
      for (const photo of photos) total += (await expectSameAsDlib(photo, upsample)).length;
      // Not vacuous: dlib finds faces on every demo photo (16 at upsample 0 on these pixels).
      expect(total).toBeGreaterThanOrEqual(12);
    }, 300_000);
  }

  it('gives the same results on the plain-TypeScript path as with the WebAssembly kernels', async () => {
    const plain = new DlibHogRunner(model, { wasm: false });
    expect(plain.usesSimd).toBe(false);
    expect(new DlibHogRunner(model).usesSimd).toBe(true);
    await expectSameAsDlib(photos[4], 0, plain.run(photos[4], 0, 0));
    const small = await fromSharp(rgbSharp(photos[1]).resize(300));
    await expectSameAsDlib(small, 1, plain.run(small, 1, 0));
  }, 120_000);

  it('matches dlib on a photo tilted by 15°', async () => {
    const tilted = await fromSharp(rgbSharp(photos[2]).rotate(15, { background: '#808080' }));
    await expectSameAsDlib(tilted, 1);
  }, 120_000);

  it('matches dlib on small faces (photo at 320 px), upsample 0, 1 and 2', async () => {
    const small = await fromSharp(rgbSharp(photos[5]).resize(320));
    const none = await expectSameAsDlib(small, 0);
    const two = await expectSameAsDlib(small, 2);
    await expectSameAsDlib(small, 1);
    // Upsampling is what finds small faces.
    expect(two.length).toBeGreaterThan(none.length);
  }, 120_000);

  it('matches dlib on several faces tiled into one image', async () => {
    const tiles = await Promise.all(
      [0, 2, 3, 4].map((i) => rgbSharp(photos[i]).resize(400, 280, { fit: 'cover' }).png().toBuffer()),
    );
    const tiled = await fromSharp(
      sharp({ create: { width: 800, height: 560, channels: 3, background: '#000000' } }).composite(
        tiles.map((input, k) => ({ input, left: (k % 2) * 400, top: Math.floor(k / 2) * 280 })),
      ),
    );
    const found = await expectSameAsDlib(tiled, 1);
    expect(found.length).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('matches dlib (no face) on a synthetic image without faces, and on images smaller than the window', async () => {
    const w = 320;
    const h = 240;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = (x * (c + 1) + ((y * 7) ^ (x * 3))) & 255;
    expect(await expectSameAsDlib({ width: w, height: h, data }, 1)).toEqual([]);
    const tiny = await fromSharp(rgbSharp(photos[0]).resize(40, 30, { fit: 'fill' }));
    expect(await expectSameAsDlib(tiny, 0)).toEqual([]);
    await expectSameAsDlib(tiny, 1);
    await expectSameAsDlib({ width: 1, height: 1, data: new Uint8Array(3) }, 1);
  }, 120_000);

  it('is a ferkit FaceDetector: boxes, logistic scores, scoreThreshold, minFaceSize and maxFaces', () => {
    const raw = detector.detectRaw(photos[4], 1, 0);
    const faces = detector.detect(photos[4]);
    expect(faces.map((f) => [f.box.x, f.box.y, f.box.x + f.box.width - 1, f.box.y + f.box.height - 1])).toEqual(
      raw.map((d) => d.rect),
    );
    for (const f of faces) {
      expect(f.score).toBeCloseTo(dlibHogScore(f.confidence), 12);
      expect(f.score).toBeGreaterThanOrEqual(0.5);
    }
    expect(detector.detect(photos[4], { maxFaces: 2 })).toHaveLength(2);
    const cut = faces[2].score;
    expect(detector.detect(photos[4], { scoreThreshold: cut }).every((f) => f.score >= cut)).toBe(true);
    expect(detector.detect(photos[4], { scoreThreshold: cut }).length).toBeLessThan(faces.length);
    expect(detector.detect(photos[4], { minFaceSize: 1000 })).toEqual([]);
    // A lower adjustThreshold finds at least as many windows, as dlib's adjust_threshold does.
    expect(detector.detect(photos[4], { adjustThreshold: -0.5 }).length).toBeGreaterThanOrEqual(faces.length);
  }, 60_000);
});

describe.skipIf(!HAVE_DLIB)('dlib HOG detector in the AFW evaluation', () => {
  it('runs as detector kind "dlib" and finds most annotated faces of the first 12 AFW photos', async (ctx) => {
    const dir = defaultAfwDir();
    if (!(await afwAvailable(dir))) ctx.skip();
    expect(detectorLabel({ kind: 'dlib' })).toBe('dlib up1');
    expect(detectorLabel({ kind: 'dlib', upsample: 0 })).toBe('dlib up0');
    const report = await runAfwEvaluation({ dir, detectors: [{ kind: 'dlib' }], limit: 12, landmarks: false });
    const s = report.summaries[0];
    expect(s.label).toBe('dlib up1');
    // On all 185 photos it finds 91.7 % (tolerant, BENCHMARKS.md); a dozen photos should not fall far below.
    expect(s.recall.tolerant).toBeGreaterThan(0.7);
  }, 300_000);
});

describe('dlib HOG detector: bad options and input', () => {
  const fakeModel = (): DlibHogModel =>
    parseDlibHogModel(
      JSON.stringify({
        format: 'ferkit-dlib-hog-1',
        cellSize: 8,
        padding: 0,
        windowWidth: 80,
        windowHeight: 80,
        filterWidth: 10,
        filterHeight: 10,
        maxPyramidLevels: 1000,
        minPyramidLayerWidth: 64,
        minPyramidLayerHeight: 64,
        numPlanes: 31,
        overlapIou: 0.33,
        overlapCovered: 0.79,
        detectors: [
          { threshold: 1, separable: [{ plane: 0, row: new Array(10).fill(0.1), col: new Array(10).fill(0.1) }] },
        ],
      }),
      'fake',
    );

  it('refuses upsample -1, 9, NaN, 1.5 with E_INPUT naming the option, at creation and per call', async () => {
    const { createDlibHogDetectorFromModel } = await import('../src/detect/dlib-hog/index.js');
    const det = createDlibHogDetectorFromModel(fakeModel());
    const img = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
    for (const upsample of [-1, 9, Number.NaN, 1.5]) {
      expect(() => createDlibHogDetectorFromModel(fakeModel(), { upsample })).toThrow(/upsample/);
      expect(() => det.detect(img, { upsample })).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
      await expect(createDlibHogDetector({ upsample })).rejects.toMatchObject({ code: 'E_INPUT', message: /upsample/ });
    }
    expect(() => det.detect(img, { adjustThreshold: Number.POSITIVE_INFINITY })).toThrow(/adjustThreshold/);
    expect(() => det.detect(img, { scoreThreshold: 1 })).toThrow(/scoreThreshold/);
    expect(() => det.detect(img, { maxFaces: 0 })).toThrow(/maxFaces/);
    expect(() => det.detect(img, { minFaceSize: -1 })).toThrow(/minFaceSize/);
    expect(() => det.detect({ width: 8, height: 8, data: new Uint8Array(5) })).toThrow(FerkitError);
    expect(() =>
      det.detect({ width: 4000, height: 4000, data: new Uint8Array(4000 * 4000 * 3) }, { upsample: 3 }),
    ).toThrow(/Mpx/);
    det.dispose();
    expect(() => det.detect(img)).toThrow(expect.objectContaining({ code: 'E_DISPOSED' }));
  });

  it('refuses a malformed or missing model file with E_MODEL naming it', async () => {
    expect(() => parseDlibHogModel('{"format":"x"}', 'm.json')).toThrow(/m\.json.*format/);
    expect(() => parseDlibHogModel('not json', 'm.json')).toThrow(expect.objectContaining({ code: 'E_MODEL' }));
    const dir = await mkdtemp(join(tmpdir(), 'ferkit-dlib-hog-model-'));
    try {
      const bad = join(dir, 'bad.json');
      await writeFile(
        bad,
        JSON.stringify({ ...JSON.parse(JSON.stringify(fakeModel())), format: 'ferkit-dlib-hog-1', detectors: [] }),
      );
      await expect(loadDlibHogModel(bad)).rejects.toMatchObject({ code: 'E_MODEL', message: /bad\.json/ });
      await expect(loadDlibHogModel(join(dir, 'missing.json'))).rejects.toMatchObject({
        code: 'E_MODEL',
        message: /missing\.json/,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
