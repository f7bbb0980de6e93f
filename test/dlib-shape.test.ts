/**
 * ferkit's port of dlib's 68-point shape predictor (src/landmarks/dlib-*.ts) against dlib itself:
 * the C++ program test/dlib-ref/shape.cpp, built against Debian's libdlib-dev, reading the same
 * model file (libdlib-data) and the same raw RGB pixels. Faces: SSD boxes (mapped to dlib's box
 * convention) on the six demo photos, a tilted photo, a small (downscaled) photo, four photos tiled
 * into one, and boxes running off the image. Then the model file itself: one tree's leaves, or the
 * root splits of one cascade, corrupted in a copy must move the points exactly as they move in dlib
 * (so a tree, split or leaf read wrongly fails); missing, truncated and
 * foreign files are E_MODEL. Needs libdlib-dev and libdlib-data (installed by .ci/run).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerkitError } from '../src/errors.js';
import { buildDlibShapeReference, dlibReferencePoints, type ReferenceInput } from '../src/eval/dlib-reference.js';
import { DLIB_BOX_MAPPINGS, mapBox } from '../src/landmarks/dlib-box-mapping.js';
import { DlibReader } from '../src/landmarks/dlib-serialize.js';
import type { DlibShapeModel } from '../src/landmarks/dlib-shape-model.js';
import {
  boxToDlibRect,
  createDlibShapePredictor,
  type DlibRect,
  dlibGray,
  dlibRectToBox,
  dlibRound,
} from '../src/landmarks/dlib-shape-predictor.js';
import { DLIB_INCLUDE_DIR } from '../src/node/dlib-native.js';
import {
  createDlibLandmarks,
  DEFAULT_DLIB_SHAPE_PREDICTOR_PATH,
  loadDlibShapePredictor,
} from '../src/node/dlib-shape.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { createFaceDetector } from '../src/node/stages.js';
import type { RgbImage } from '../src/types.js';
import { loadSample } from './helpers/faceapi.js';

const MODEL = DEFAULT_DLIB_SHAPE_PREDICTOR_PATH;
const missing = [existsSync(DLIB_INCLUDE_DIR) ? '' : 'libdlib-dev', existsSync(MODEL) ? '' : 'libdlib-data'].filter(
  Boolean,
);
if (missing.length) {
  console.warn(
    `dlib-shape.test: SKIPPED — Debian package(s) ${missing.join(', ')} not installed (apt-get install ${missing.join(' ')})`,
  );
}

interface Case {
  name: string;
  image: RgbImage;
  rects: DlibRect[];
}

/** Rotates an RGB image by `degrees` (black corners), as sharp does. */
async function rotate(image: RgbImage, degrees: number): Promise<RgbImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .rotate(degrees, { background: '#000000' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Tiles images two by two, top-left aligned on a black canvas. */
function tile(images: RgbImage[]): { image: RgbImage; offsets: [number, number][] } {
  const cellW = Math.max(...images.map((i) => i.width));
  const cellH = Math.max(...images.map((i) => i.height));
  const width = 2 * cellW;
  const height = 2 * cellH;
  const data = new Uint8Array(width * height * 3);
  const offsets: [number, number][] = [];
  images.forEach((img, k) => {
    const ox = (k % 2) * cellW;
    const oy = Math.floor(k / 2) * cellH;
    offsets.push([ox, oy]);
    for (let y = 0; y < img.height; y++) {
      data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((oy + y) * width + ox) * 3);
    }
  });
  return { image: { width, height, data }, offsets };
}

/** Counts of equal / off-by-one / worse coordinates between our rounded points and dlib's. */
function compare(ours: number[][], dlib: number[][]) {
  let equal = 0;
  let total = 0;
  let maxDiff = 0;
  ours.forEach((pts, f) => {
    expect(dlib[f]).toHaveLength(136);
    pts.forEach((v, k) => {
      const d = Math.abs(v - dlib[f][k]);
      total++;
      if (d === 0) equal++;
      maxDiff = Math.max(maxDiff, d);
    });
  });
  return { equal, total, maxDiff };
}

/** Our rounded points for every rectangle of every case. */
function predictAll(model: DlibShapeModel, cases: readonly ReferenceInput[], simd = true): number[][] {
  const predictor = createDlibShapePredictor(model, { simd });
  return cases.flatMap(({ image, rects }) => {
    const gray = dlibGray(image);
    return rects.map((r) => Array.from(predictor.predict(gray, r), dlibRound));
  });
}

/** Encodes a value the way dlib serializes a float (float_details: int64 mantissa, int16 exponent). */
function encodeDlibFloat(value: number): Uint8Array {
  const exponent = -24;
  const mantissa = Math.round(value * 2 ** 24);
  const int = (n: number) => {
    const bytes: number[] = [];
    let m = Math.abs(n);
    do {
      bytes.push(m & 0xff);
      m = Math.floor(m / 256);
    } while (m > 0);
    return [bytes.length | (n < 0 ? 0x80 : 0), ...bytes];
  };
  return Uint8Array.from([...int(mantissa), ...int(exponent)]);
}

/**
 * Byte ranges [start, end) of serialized values in the model file, found by walking its structure:
 * the root split threshold of every tree of `cascade`, and every leaf value of its tree `tree`.
 */
function locate(bytes: Uint8Array, cascade: number, tree: number) {
  const r = new DlibReader(bytes, 'model');
  r.signed('version');
  r.floatColumn('initial_shape');
  expect(cascade).toBeLessThan(r.unsigned('forests'));
  const rootThresh: { start: number; end: number }[] = [];
  const leaves: { start: number; end: number; value: number }[][] = [];
  for (let c = 0; c <= cascade; c++) {
    const numTrees = r.unsigned('trees');
    for (let t = 0; t < numTrees; t++) {
      const numSplits = r.unsigned('splits');
      for (let s = 0; s < numSplits; s++) {
        r.unsigned('idx1');
        r.unsigned('idx2');
        const start = r.pos;
        r.float('thresh');
        if (c === cascade && s === 0) rootThresh.push({ start, end: r.pos });
      }
      const numLeaves = r.unsigned('leaves');
      for (let l = 0; l < numLeaves; l++) {
        r.signed('rows');
        r.signed('cols');
        const row: { start: number; end: number; value: number }[] = [];
        for (let k = 0; k < 136; k++) {
          const start = r.pos;
          const value = r.float('leaf');
          row.push({ start, end: r.pos, value });
        }
        if (c === cascade && t === tree) leaves.push(row);
      }
    }
  }
  return { rootThresh, leaves };
}

/** A copy of `bytes` with the given byte ranges replaced (ranges must not overlap). */
function splice(bytes: Uint8Array, edits: { start: number; end: number; bytes: Uint8Array }[]): Uint8Array {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const e of sorted) {
    parts.push(bytes.subarray(at, e.start), e.bytes);
    at = e.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}

describe.skipIf(missing.length > 0)("dlib shape predictor: TypeScript port vs dlib's C++", () => {
  let binary: string;
  let model: DlibShapeModel;
  let modelBytes: Uint8Array;
  let tmp: string;
  const cases: Case[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'ferkit-dlib-shape-'));
    binary = await buildDlibShapeReference();
    modelBytes = await readFile(MODEL);
    model = await loadDlibShapePredictor(MODEL);
    const detector = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
    const ssdRects = async (image: RgbImage) =>
      (await detector.detect(image)).map((d) => boxToDlibRect(mapBox(d.box, DLIB_BOX_MAPPINGS.cnn)));
    try {
      const photos: RgbImage[] = [];
      for (let i = 1; i <= 6; i++) {
        const image = await loadSample(i, 800);
        photos.push(image);
        cases.push({ name: `sample${i}`, image, rects: await ssdRects(image) });
      }
      const tilted = await rotate(photos[1], 20);
      cases.push({ name: 'tilted 20°', image: tilted, rects: await ssdRects(tilted) });
      // Small: sample3 at 200 px wide, with its 800-px SSD boxes scaled down (faces ~25 px).
      const small = await loadSample(3, 200);
      const rects3 = cases[2].rects;
      cases.push({
        name: 'small',
        image: small,
        rects: rects3.map((r) =>
          boxToDlibRect({
            x: r.left / 4,
            y: r.top / 4,
            width: (r.right - r.left + 1) / 4,
            height: (r.bottom - r.top + 1) / 4,
          }),
        ),
      });
      const tiled = tile((await Promise.all([4, 5, 1, 6].map((i) => loadSample(i, 400)))) as RgbImage[]);
      cases.push({ name: 'tiled 2×2', image: tiled.image, rects: await ssdRects(tiled.image) });
      // Boxes running off every edge: dlib reads those pixels as 0.
      const p = photos[0];
      cases.push({
        name: 'off the image',
        image: p,
        rects: [
          { left: -60, top: -40, right: 140, bottom: 160 },
          { left: p.width - 120, top: p.height - 100, right: p.width + 80, bottom: p.height + 100 },
          { left: -500, top: -500, right: -300, bottom: -300 },
        ],
      });
    } finally {
      await detector.dispose();
    }
  }, 300_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('finds faces to compare in every case', () => {
    for (const c of cases) expect(c.rects.length, c.name).toBeGreaterThan(0);
    expect(cases.find((c) => c.name === 'tiled 2×2')?.rects.length).toBeGreaterThanOrEqual(4);
  });

  it("gives dlib's 68 points on every face (rounded as dlib rounds them)", async () => {
    const dlib = await dlibReferencePoints(binary, cases, MODEL);
    expect(dlib).toHaveLength(cases.reduce((n, c) => n + c.rects.length, 0));
    for (const simd of [true, false]) {
      const ours = predictAll(model, cases, simd);
      const { equal, total, maxDiff } = compare(ours, dlib);
      console.log(
        `dlib shape predictor (simd ${simd}): ${equal}/${total} coordinates equal to dlib's, max diff ${maxDiff} px`,
      );
      expect(equal / total).toBeGreaterThanOrEqual(0.99);
      expect(maxDiff).toBeLessThanOrEqual(1);
    }
    // Per case too, so one kind of input cannot hide behind the others.
    let f = 0;
    for (const c of cases) {
      const ours = predictAll(model, [c]);
      const { equal, total, maxDiff } = compare(ours, dlib.slice(f, f + c.rects.length));
      f += c.rects.length;
      expect(equal / total, c.name).toBeGreaterThanOrEqual(0.99);
      expect(maxDiff, c.name).toBeLessThanOrEqual(1);
    }
  });

  it('predicts from RGB pixels bit for bit as from the grey image, in and off the image', () => {
    const predictor = createDlibShapePredictor(model);
    let faces = 0;
    for (const c of cases) {
      const gray = dlibGray(c.image);
      for (const rect of c.rects) {
        const fromGray = Array.from(predictor.predict(gray, rect));
        const fromRgb = Array.from(predictor.predictRgb(c.image, rect));
        expect(fromRgb, `${c.name} ${JSON.stringify(rect)}`).toEqual(fromGray);
        faces++;
      }
    }
    expect(faces).toBeGreaterThanOrEqual(15);
    // A grey level that needs the truncation ((r + g + b) / 3 = 84.33 → 84), all over an image:
    // reading RGB must truncate exactly as dlibGray does or the trees split differently.
    const odd = { width: 120, height: 120, data: new Uint8Array(120 * 120 * 3) };
    for (let i = 0; i < odd.data.length; i++) odd.data[i] = (i * 37 + (i >> 7) * 11) % 256;
    const rect = { left: 10, top: 10, right: 109, bottom: 109 };
    expect(Array.from(predictor.predictRgb(odd, rect))).toEqual(Array.from(predictor.predict(dlibGray(odd), rect)));
  });

  it("the LandmarkModel returns dlib's float points for ferkit boxes (boxes: 'dlib' = no mapping)", async () => {
    const lm = await createDlibLandmarks({ model, boxes: 'dlib' });
    const c = cases[0];
    const points = await lm.detect(c.image, c.rects.map(dlibRectToBox));
    const direct = predictAll(model, [c]);
    expect(points).toHaveLength(c.rects.length);
    const exact = createDlibShapePredictor(model);
    const gray = dlibGray(c.image);
    points.forEach((pts, f) => {
      expect(pts).toHaveLength(68);
      expect(pts.flat()).toEqual(Array.from(exact.predict(gray, c.rects[f]))); // the same floats, bit for bit
      expect(pts.flat().map(dlibRound)).toEqual(direct[f]);
      expect(pts.flat().some((v) => !Number.isInteger(v))).toBe(true); // floats, not dlib's rounded points
    });
    // A mapped box source moves the points; an unknown one is E_INPUT.
    const mapped = await createDlibLandmarks({ model, boxes: 'haar' });
    expect((await mapped.detect(c.image, [dlibRectToBox(c.rects[0])]))[0]).not.toEqual(points[0]);
    await expect(createDlibLandmarks({ model, boxes: 'hog' as 'dlib' })).rejects.toMatchObject({ code: 'E_INPUT' });
    lm.dispose();
    await expect(lm.detect(c.image, [])).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });

  it("moves the points exactly as dlib does when one tree's leaves or one cascade's root splits are corrupted", async () => {
    const faces: ReferenceInput[] = [{ image: cases[0].image, rects: cases[0].rects }, cases[2]];
    const before = predictAll(model, faces);
    const { leaves } = locate(modelBytes, 3, 42);
    expect(leaves).toHaveLength(16);
    // Every leaf of cascade 3, tree 42: shift the nose tip (point 30) 0.05 box widths right.
    const leafEdits = leaves.map((row) => ({ ...row[60], bytes: encodeDlibFloat(row[60].value + 0.05) }));
    // The root split of every tree of cascade 0: threshold 300 (never exceeded: always the right subtree).
    const { rootThresh } = locate(modelBytes, 0, -1);
    expect(rootThresh).toHaveLength(500);
    const splitEdits = rootThresh.map((range) => ({ ...range, bytes: encodeDlibFloat(300) }));
    for (const [what, edits] of [
      ['leaves', leafEdits],
      ['splits', splitEdits],
    ] as const) {
      const file = join(tmp, `corrupt-${what}.dat`);
      await writeFile(file, splice(modelBytes, edits));
      const corrupt = await loadDlibShapePredictor(file);
      const ours = predictAll(corrupt, faces);
      const dlib = await dlibReferencePoints(binary, faces, file);
      const { equal, total, maxDiff } = compare(ours, dlib);
      expect(equal / total, what).toBeGreaterThanOrEqual(0.99);
      expect(maxDiff, what).toBeLessThanOrEqual(1);
      const moved = compare(ours, before);
      expect(moved.equal, `${what}: some points must move`).toBeLessThan(moved.total);
      if (what === 'leaves') expect(moved.maxDiff).toBeGreaterThanOrEqual(3);
    }
  });

  it('a missing file is E_MODEL naming the path and libdlib-data', async () => {
    const path = join(tmp, 'no-such-model.dat');
    const e = await loadDlibShapePredictor(path).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FerkitError);
    expect(e).toMatchObject({ code: 'E_MODEL' });
    expect((e as Error).message).toContain(path);
    expect((e as Error).message).toContain('apt-get install libdlib-data');
  });

  it('a truncated, empty or foreign file is E_MODEL naming the file', async () => {
    for (const [name, bytes] of [
      ['truncated-half.dat', modelBytes.subarray(0, modelBytes.length >> 1)],
      ['truncated-header.dat', modelBytes.subarray(0, 100)],
      ['one-byte-short.dat', modelBytes.subarray(0, modelBytes.length - 1)],
      ['empty.dat', new Uint8Array(0)],
      ['foreign.dat', new TextEncoder().encode('<?xml version="1.0"?><opencv_storage></opencv_storage>')],
    ] as const) {
      const file = join(tmp, name);
      await writeFile(file, bytes);
      const e = await loadDlibShapePredictor(file).catch((x: unknown) => x);
      expect(e, name).toBeInstanceOf(FerkitError);
      expect(e, name).toMatchObject({ code: 'E_MODEL' });
      expect((e as Error).message, name).toContain(file);
    }
  });
});
