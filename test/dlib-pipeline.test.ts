/**
 * The paper's dlib stack wired through ferkit: `detector: 'dlib'` and `landmarks: 'dlib'` in the
 * library, the CLI, the server and the queue's job keys. The ports themselves are tested against
 * dlib's C++ in dlib-hog.test.ts and dlib-shape.test.ts; this file checks that the analyzer passes
 * the right boxes (dlib's own, unmapped; other detectors' mapped) and the options everywhere.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerkitError } from '../src/errors.js';
import { DLIB_BOX_MAPPINGS, mapBox } from '../src/landmarks/dlib-box-mapping.js';
import { type Analyzer, createAnalyzer } from '../src/node/analyzer.js';
import { createDlibHogDetector } from '../src/node/dlib-hog.js';
import { DLIB_INCLUDE_DIR } from '../src/node/dlib-native.js';
import { createDlibLandmarks, DEFAULT_DLIB_SHAPE_PREDICTOR_PATH } from '../src/node/dlib-shape.js';
import { jobAnalysisOptions, jobKey } from '../src/queue/jobs.js';
import { expectError, http, json, startServer } from './helpers/server.js';

const run = promisify(execFile);
const MAIN = resolve('dist/cli/main.js');
const PHOTO = resolve('node_modules/@vladmandic/face-api/demo/sample1.jpg');
const HAVE_DLIB = existsSync(DLIB_INCLUDE_DIR) && existsSync(DEFAULT_DLIB_SHAPE_PREDICTOR_PATH);
if (!HAVE_DLIB) console.warn('dlib-pipeline.test: skipped, install libdlib-dev and libdlib-data (apt-get) to run it');

const ferkit = async (args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

describe.skipIf(!HAVE_DLIB)('the dlib stack through the analyzer', () => {
  let dlibStack: Analyzer;
  let ssdDlib: Analyzer;
  beforeAll(async () => {
    [dlibStack, ssdDlib] = await Promise.all([
      createAnalyzer({ detector: 'dlib', landmarks: 'dlib', threads: 1 }),
      createAnalyzer({ detector: 'cnn', landmarks: 'dlib', threads: 1 }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await dlibStack?.dispose();
    await ssdDlib?.dispose();
  });

  it("gives dlib's detections and dlib's points on dlib's own (unmapped) boxes", async () => {
    const image = await dlibStack.decode(PHOTO);
    const result = await dlibStack.analyzeImage(image);
    const hog = await createDlibHogDetector({ upsample: 1 });
    const dets = (await hog.detect(image, { minFaceSize: 24 })).sort((a, b) => b.score - a.score);
    expect(result.faces.length).toBeGreaterThanOrEqual(3);
    expect(result.faces.map((f) => f.box).sort((a, b) => a.x - b.x)).toEqual(
      dets.map((d) => d.box).sort((a, b) => a.x - b.x),
    );
    const predictor = await createDlibLandmarks({ boxes: 'dlib' });
    const points = await predictor.detect(
      image,
      result.faces.map((f) => f.box),
    );
    expect(result.faces.map((f) => f.landmarks)).toEqual(points);
    for (const f of result.faces)
      expect(Object.values(f.expression.probabilities).reduce((a, b) => a + b)).toBeCloseTo(1);
  });

  it("maps another detector's boxes to dlib's convention before the predictor", async () => {
    const image = await ssdDlib.decode(PHOTO);
    const result = await ssdDlib.analyzeImage(image);
    expect(result.faces.length).toBeGreaterThanOrEqual(3);
    const boxes = result.faces.map((f) => f.box);
    const mapped = await createDlibLandmarks({ boxes: 'cnn' });
    const unmapped = await createDlibLandmarks({ boxes: 'dlib' });
    expect(result.faces.map((f) => f.landmarks)).toEqual(await mapped.detect(image, boxes));
    // …which is the same as giving dlib's predictor the mapped box itself, and differs from the raw box.
    expect(
      await unmapped.detect(
        image,
        boxes.map((b) => mapBox(b, DLIB_BOX_MAPPINGS.cnn)),
      ),
    ).toEqual(result.faces.map((f) => f.landmarks));
    expect(await unmapped.detect(image, boxes)).not.toEqual(result.faces.map((f) => f.landmarks));
  });

  it('refuses bad options and a missing model file by name', async () => {
    await expect(createAnalyzer({ detector: 'dlib', dlibUpsample: 9 })).rejects.toThrow(/options\.dlibUpsample/);
    await expect(createAnalyzer({ landmarks: 'dlob' as 'dlib' })).rejects.toThrow(/options\.landmarks/);
    const missing = createAnalyzer({ landmarks: 'dlib', shapePredictorPath: '/nonexistent/sp68.dat' });
    await expect(missing).rejects.toBeInstanceOf(FerkitError);
    await expect(missing).rejects.toMatchObject({
      code: 'E_MODEL',
      message: expect.stringContaining('/nonexistent/sp68.dat'),
    });
  });

  it('keys queue jobs by detector, landmark model and upsampling', () => {
    const key = (o: Parameters<typeof jobAnalysisOptions>[0]) => jobKey('0'.repeat(64), jobAnalysisOptions(o));
    const base = key({});
    expect(key({ landmarks: 'ferkit' })).toBe(base);
    expect(key({ landmarks: 'faceapi' })).not.toBe(base);
    expect(key({ landmarks: 'dlib' })).not.toBe(base);
    expect(key({ detector: 'dlib' })).toBe(key({ detector: 'dlib', dlibUpsample: 1 }));
    expect(key({ detector: 'dlib', dlibUpsample: 0 })).not.toBe(key({ detector: 'dlib' }));
  });
});

describe.skipIf(!HAVE_DLIB)('the dlib stack on the command line and the server', () => {
  it('ferkit analyze --detector dlib --landmarks dlib; bad values are usage errors naming the flag', async () => {
    const ok = await ferkit(['analyze', PHOTO, '--detector', 'dlib', '--landmarks', 'dlib', '--threads', '1']);
    expect(ok.code).toBe(0);
    const [record] = JSON.parse(ok.stdout);
    expect(record.faces.length).toBeGreaterThanOrEqual(3);
    for (const f of record.faces) expect(f.landmarks).toHaveLength(68);
    for (const [args, flag] of [
      [['--detector', 'dlib', '--dlib-upsample', '9'], '--dlib-upsample'],
      [['--dlib-upsample', '1'], '--dlib-upsample'],
      [['--landmarks', 'dlob'], '--landmarks'],
      [['--detector', 'hog'], '--detector'],
    ] as const) {
      const bad = await ferkit(['analyze', PHOTO, ...args]);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toContain(flag);
    }
  });

  it('ferkit serve --detector dlib --landmarks dlib answers with dlib faces and names its models', async () => {
    const { child, base } = await startServer(['--workers', '1', '--detector', 'dlib', '--landmarks', 'dlib']);
    try {
      const models = json(await http(base, 'GET', '/v1/models'));
      expect(JSON.stringify(models)).toContain("dlib's HOG");
      expect(JSON.stringify(models)).toContain("dlib's shape predictor");
      const { readFile } = await import('node:fs/promises');
      const r = await http(base, 'POST', '/v1/analyze', await readFile(PHOTO), { 'content-type': 'image/jpeg' });
      expect(r.status).toBe(200);
      const body = json(r);
      expect(body.faces.length).toBeGreaterThanOrEqual(3);
      expect(body.faces[0].landmarks).toHaveLength(68);
      expectError(await http(base, 'POST', '/v1/analyze', 'not an image', { 'content-type': 'image/jpeg' }), 400);
    } finally {
      child.kill('SIGTERM');
    }
    const bad = await ferkit(['serve', '--port', '0', '--threads', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threads');
  });
});
