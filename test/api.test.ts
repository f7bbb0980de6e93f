/** The public library API: createAnalyzer → analyze(path | Buffer | raw pixels) → dispose. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPhotoPaths } from '../src/bench/photos.js';
import { parseAnalysisOptions } from '../src/cli/analysis-options.js';
import { type Analyzer, createAnalyzer, EXPRESSION_LABELS, FerkitError } from '../src/node/index.js';
import { jobAnalysisOptions, jobKey } from '../src/queue/jobs.js';

const photo = demoPhotoPaths()[2];
let analyzer: Analyzer;
beforeAll(async () => {
  analyzer = await createAnalyzer({ minFaceSize: 24 });
});
afterAll(() => analyzer?.dispose());

describe('createAnalyzer / analyze', () => {
  it('returns faces with boxes, 68 landmarks inside the image, and probabilities that sum to 1', async () => {
    const r = await analyzer.analyze(photo);
    expect(r.width).toBe(1920);
    expect(r.faces.length).toBeGreaterThanOrEqual(3);
    for (const f of r.faces) {
      expect(f.score).toBeGreaterThan(0.5);
      expect(f.landmarks).toHaveLength(68);
      // landmarks sit on the face: their centre lies inside the detection box
      const cx = f.landmarks.reduce((s, p) => s + p[0], 0) / 68;
      const cy = f.landmarks.reduce((s, p) => s + p[1], 0) / 68;
      expect(cx).toBeGreaterThan(f.box.x);
      expect(cx).toBeLessThan(f.box.x + f.box.width);
      expect(cy).toBeGreaterThan(f.box.y);
      expect(cy).toBeLessThan(f.box.y + f.box.height);
      const probs = EXPRESSION_LABELS.map((l) => f.expression.probabilities[l]);
      expect(probs.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      expect(f.expression.label).toBe(EXPRESSION_LABELS[probs.indexOf(Math.max(...probs))]);
    }
    for (const k of ['decode', 'detect', 'landmarks', 'align', 'expression', 'total'] as const)
      expect(r.timings[k]).toBeGreaterThanOrEqual(0);
  });

  it('gives the same faces for a path, a Buffer and raw RGBA pixels', async () => {
    const a = await analyzer.analyze(photo);
    const b = await analyzer.analyze(readFileSync(photo));
    const { data, info } = await sharp(photo).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const c = await analyzer.analyze({
      width: info.width,
      height: info.height,
      channels: 4,
      data: new Uint8Array(data),
    });
    expect(b.faces.map((f) => f.box)).toEqual(a.faces.map((f) => f.box));
    expect(c.faces.length).toBe(a.faces.length);
    c.faces.forEach((f, i) => {
      expect(Math.abs(f.box.x - a.faces[i].box.x)).toBeLessThan(2);
    });
  });

  it('minFaceSize drops small faces', async () => {
    const big = await createAnalyzer({ minFaceSize: 1000 });
    try {
      expect((await big.analyze(photo)).faces).toEqual([]);
    } finally {
      await big.dispose();
    }
  });

  it("detector 'cnn', ssdPrecision 'float' keeps the float SSD selectable: the same faces as its int8 build", async () => {
    const [int8, float] = await Promise.all(
      (['int8', 'float'] as const).map((ssdPrecision) =>
        createAnalyzer({ detector: 'cnn', minFaceSize: 24, ssdPrecision }),
      ),
    );
    try {
      const [int8Faces, floatFaces] = [(await int8.analyze(photo)).faces, (await float.analyze(photo)).faces];
      expect(int8Faces.length).toBeGreaterThan(0);
      expect(floatFaces.length).toBe(int8Faces.length);
      floatFaces.forEach((f, i) => {
        expect(Math.abs(f.box.x - int8Faces[i].box.x)).toBeLessThan(0.05 * f.box.width);
      });
    } finally {
      await Promise.all([int8.dispose(), float.dispose()]);
    }
  });

  it('--ssd-precision on the command line and in queue job keys: the build is part of a cnn result', () => {
    expect(parseAnalysisOptions({ detector: 'cnn', 'ssd-precision': 'float' }).ssdPrecision).toBe('float');
    expect(parseAnalysisOptions({}).ssdPrecision).toBeUndefined();
    expect(() => parseAnalysisOptions({ detector: 'cnn', 'ssd-precision': 'fp16' })).toThrow(/--ssd-precision/);
    for (const other of [{ detector: 'haar' }, {}]) {
      // the default detector is BlazeFace: the SSD's build only means something with --detector cnn
      expect(() => parseAnalysisOptions({ ...other, 'ssd-precision': 'float' })).toThrow(
        /--ssd-precision: only with --detector cnn/,
      );
    }
    const key = (o: Parameters<typeof jobAnalysisOptions>[0]) => jobKey('0'.repeat(64), jobAnalysisOptions(o));
    expect(key({ detector: 'cnn' })).toBe(key({ detector: 'cnn', ssdPrecision: 'int8' }));
    expect(key({ detector: 'cnn', ssdPrecision: 'float' })).not.toBe(key({ detector: 'cnn' }));
    expect(key({})).not.toBe(key({ detector: 'cnn' }));
    expect(jobAnalysisOptions({ detector: 'haar', ssdPrecision: 'float' })).not.toHaveProperty('ssdPrecision');
  });

  it('rejects bad options with the field named', async () => {
    await expect(createAnalyzer({ scoreThreshold: 2 })).rejects.toThrow(/options.scoreThreshold/);
    await expect(createAnalyzer({ detector: 'hog' as 'cnn' })).rejects.toThrow(/options.detector/);
    await expect(createAnalyzer({ ssdPrecision: 'fp16' as 'int8' })).rejects.toThrow(/options.ssdPrecision/);
    await expect(createAnalyzer({ expressionModel: '/nonexistent/model.onnx' })).rejects.toMatchObject({
      code: 'E_MODEL',
    });
  });

  it('a model file that is not ONNX → E_MODEL naming it', async () => {
    const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { bundledModelDir } = await import('../src/node/paths.js');
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-model-'));
    writeFileSync(join(dir, 'fake.onnx'), 'not a model');
    copyFileSync(join(bundledModelDir(), 'ferkit-resnet.json'), join(dir, 'fake.json'));
    const e = await createAnalyzer({ expressionModel: join(dir, 'fake.onnx') }).catch((x) => x);
    expect(e).toBeInstanceOf(FerkitError);
    expect(e.code).toBe('E_MODEL');
    expect(e.message).toContain('fake.onnx');
  });

  it('throws E_DISPOSED after dispose()', async () => {
    const a = await createAnalyzer();
    await a.dispose();
    await expect(a.analyze(photo)).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });
});
