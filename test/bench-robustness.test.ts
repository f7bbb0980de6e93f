/**
 * `ferkit bench robustness` end to end through the built CLI, the BENCHMARKS.md section writer, and
 * the sections that `bench pipeline` and `bench expression` write (on one photo / a few runs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRUPTION_FAMILIES, CORRUPTIONS } from '../src/bench/corruptions.js';
import { demoPhotoPaths } from '../src/bench/photos.js';
import {
  benchMeta,
  formatMeta,
  shellQuote,
  upsertSection,
  vectorExtensions,
  writeBenchmarksSection,
} from '../src/bench/report.js';
import { EXPRESSION_LABELS } from '../src/types.js';
import { cli, expectSection, ferkit, root, staleBenchmarksFile } from './helpers/bench-cli.js';

const model = resolve(root, process.env.FERKIT_TEST_MODEL ?? 'models/ferkit-resnet.onnx');
const RECORD = 1 + 48 * 48;
const N = 21;

let dir: string;
let tinyBin: string;

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npx tsc -p tsconfig.json\` first`);
  dir = await mkdtemp(join(tmpdir(), 'ferkit-bench-robustness-'));
  // 21 synthesised records (3 per class): a bright oval "face" with dark eyes and mouth on a gradient.
  const bytes = new Uint8Array(N * RECORD);
  for (let i = 0; i < N; i++) {
    const o = i * RECORD;
    bytes[o] = i % EXPRESSION_LABELS.length;
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++) {
        const dx = (x - 23.5) / 18;
        const dy = (y - 26) / 21;
        let v = 50 + x + 3 * i;
        if (dx * dx + dy * dy < 1) v = 165 + 20 * Math.sin(0.3 * x + i);
        if ((Math.abs(x - 15) < 3 || Math.abs(x - 32) < 3) && Math.abs(y - 18) < 2) v = 40;
        if (Math.abs(x - 23.5) < 7 && Math.abs(y - 36 - (i % 3)) < 1.5) v = 60;
        bytes[o + 1 + y * 48 + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  tinyBin = join(dir, 'tiny.bin');
  await writeFile(tinyBin, bytes);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `ferkit bench robustness --json` on the first `limit` synthesised crops with the test model, writing to `out`. */
function benchRobustness(limit: number, out: string, more: string[]) {
  return ferkit([
    'bench',
    'robustness',
    '--data',
    tinyBin,
    '--limit',
    String(limit),
    '--json',
    '--model',
    model,
    '--out',
    out,
    ...more,
  ]);
}

describe.skipIf(!existsSync(model))('ferkit bench robustness (built CLI)', () => {
  it('--limit 20 --json: one consistent object, and the report files', async () => {
    const out = join(dir, 'out');
    const bench = join(dir, 'BENCH.md');
    await writeFile(bench, '# Benchmarks\n\nHand-written intro.\n');
    const r = await benchRobustness(20, out, ['--write-benchmarks', '--benchmarks-file', bench]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.n).toBe(20);
    expect(j.severities).toEqual([1, 2, 3, 4, 5]);
    expect(['none', 'flip']).toContain(j.tta);
    expect(j.clean).toMatchObject({ corruption: 'clean', severity: 0, rce: 0 });
    expect(j.clean.error).toBeCloseTo(1 - j.clean.accuracy, 12);
    // Accuracies of 20 faces are multiples of 1/20.
    expect(Math.abs(j.clean.accuracy * 20 - Math.round(j.clean.accuracy * 20))).toBeLessThan(1e-9);

    expect(j.cells).toHaveLength(CORRUPTIONS.length * 5);
    for (const c of CORRUPTIONS) {
      const cells = j.cells.filter((x: { corruption: string }) => x.corruption === c.name);
      expect(cells.map((x: { severity: number }) => x.severity)).toEqual([1, 2, 3, 4, 5]);
      for (const x of cells) {
        expect(x.family).toBe(c.family);
        expect(x.parameter).toBe(c.levels[x.severity - 1]);
        expect(x.accuracy).toBeGreaterThanOrEqual(0);
        expect(x.accuracy).toBeLessThanOrEqual(1);
        expect(x.macroF1).toBeGreaterThanOrEqual(0);
        expect(x.macroF1).toBeLessThanOrEqual(1);
        expect(x.error).toBeCloseTo(1 - x.accuracy, 12);
        if (j.clean.error > 0) expect(x.rce).toBeCloseTo((x.error - j.clean.error) / j.clean.error, 9);
      }
      const agg = j.corruptions.find((x: { name: string }) => x.name === c.name);
      expect(agg.accuracy).toBeCloseTo(mean(cells.map((x: { accuracy: number }) => x.accuracy)), 12);
      expect(agg.macroF1).toBeCloseTo(mean(cells.map((x: { macroF1: number }) => x.macroF1)), 12);
      expect(agg.rce).toBeCloseTo(mean(cells.map((x: { rce: number }) => x.rce)), 12);
      expect(agg.accuracyBySeverity).toEqual(cells.map((x: { accuracy: number }) => x.accuracy));
    }
    expect(j.families.map((f: { name: string }) => f.name)).toEqual([...CORRUPTION_FAMILIES]);
    for (const f of j.families) {
      const members = j.corruptions.filter((c: { family: string }) => c.family === f.name);
      expect(f.accuracy).toBeCloseTo(mean(members.map((c: { accuracy: number }) => c.accuracy)), 12);
      expect(f.rce).toBeCloseTo(mean(members.map((c: { rce: number }) => c.rce)), 12);
    }
    expect(j.overall.accuracy).toBeCloseTo(mean(j.corruptions.map((c: { accuracy: number }) => c.accuracy)), 12);
    expect(j.overall.rce).toBeCloseTo(mean(j.corruptions.map((c: { rce: number }) => c.rce)), 12);
    expect(j.majorityRate).toBeCloseTo(3 / 20, 12);

    // Files: PNGs, CSV with a clean row + one per cell, Markdown tables.
    for (const key of ['chart', 'grid']) {
      const png = readFileSync(j.files[key]);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    }
    const csv = readFileSync(j.files.csv, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('corruption,family,severity,parameter,accuracy,macro_f1,ece,error,rce');
    expect(csv).toHaveLength(2 + CORRUPTIONS.length * 5);
    expect(csv[1].startsWith('clean,clean,0,,')).toBe(true);
    const md = readFileSync(j.files.markdown, 'utf8');
    for (const c of CORRUPTIONS) expect(md).toContain(`| ${c.name} |`);
    expect(md).toContain('rCE');
    expect(JSON.parse(readFileSync(j.files.json, 'utf8')).cells).toHaveLength(CORRUPTIONS.length * 5);

    // BENCHMARKS section: added after the hand-written text, with the machine and command.
    const doc = await readFile(bench, 'utf8');
    expect(doc.startsWith('# Benchmarks\n\nHand-written intro.\n')).toBe(true);
    expect(doc).toContain('<!-- ferkit:robustness -->');
    expect(doc).toContain('<!-- /ferkit:robustness -->');
    expect(doc).toContain('- Command: `ferkit bench robustness --data');
    expect(doc).toContain('- Machine: ');
  }, 900_000);

  it('usage errors exit 2', async () => {
    expect((await ferkit(['bench', 'robustness', '--data', tinyBin, '--severities', '0-6'])).code).toBe(2);
    expect((await ferkit(['bench', 'robustness', '--data', tinyBin, '--corruptions', 'fog'])).code).toBe(2);
    expect((await ferkit(['bench', 'robustness'])).code).toBe(2);
  });

  it('--severities and --corruptions pick a subset', async () => {
    const r = await benchRobustness(7, join(dir, 'sub'), ['--severities', '2,4', '--corruptions', 'mask,jpeg']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.severities).toEqual([2, 4]);
    expect(j.cells.map((c: { corruption: string; severity: number }) => `${c.corruption}${c.severity}`)).toEqual([
      'mask2',
      'mask4',
      'jpeg2',
      'jpeg4',
    ]);
    expect(j.families.map((f: { name: string }) => f.name)).toEqual(['compression', 'occlusion']);
  }, 300_000);
});

describe('BENCHMARKS.md sections', () => {
  it('appends a missing section and replaces only its own text later', () => {
    const doc = '# Benchmarks\n\nIntro.\n\n<!-- ferkit:peers -->\nold peers\n<!-- /ferkit:peers -->\n\nOutro.\n';
    const a = upsertSection(doc, 'robustness', 'first');
    expect(a.replaced).toBe(false);
    expect(a.text).toBe(`${doc}\n<!-- ferkit:robustness -->\nfirst\n<!-- /ferkit:robustness -->\n`);
    const b = upsertSection(a.text, 'robustness', 'second\n');
    expect(b.replaced).toBe(true);
    expect(b.text).toBe(a.text.replace('first', 'second'));
    const c = upsertSection(b.text, 'peers', 'new peers');
    expect(c.text).toBe(b.text.replace('old peers', 'new peers'));
    expect(upsertSection('', 'x', 'y').text).toBe('<!-- ferkit:x -->\ny\n<!-- /ferkit:x -->\n');
    expect(() => upsertSection('<!-- ferkit:x -->\nno end', 'x', 'y')).toThrow(/no matching/);
    expect(() => upsertSection('', 'bad name', 'y')).toThrow(RangeError);
  });

  it('metadata: machine, date, commit, command', async () => {
    const meta = benchMeta(['bench', 'robustness', '--data', 'a b.bin'], new Date('2026-01-02T03:04:05.678Z'));
    expect(meta.date).toBe('2026-01-02T03:04:05Z');
    expect(meta.command).toBe("ferkit bench robustness --data 'a b.bin'");
    expect(meta.machine).toMatch(/logical cores/);
    expect(meta.commit).toMatch(/^([0-9a-f]{4,}(\+dirty)?|unknown)$/);
    expect(formatMeta(meta)).toContain("`ferkit bench robustness --data 'a b.bin'`");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const file = join(dir, 'W.md');
    const w1 = await writeBenchmarksSection('robustness', '## R', 'body 1', { file, meta });
    const w2 = await writeBenchmarksSection('robustness', '## R', 'body 2', { file, meta });
    expect([w1.replaced, w2.replaced]).toEqual([false, true]);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('body 2');
    expect(text).not.toContain('body 1');
    expect(text.match(/<!-- ferkit:robustness -->/g)).toHaveLength(1);
  });

  it('names the vector extensions that set inference speed', () => {
    // flags as /proc/cpuinfo lists them (abridged) on the two EPYC machines these numbers came from
    expect(vectorExtensions('fpu sse4_2 avx f16c avx2 avx512f avx512bw avx512_vnni avx512_bf16')).toBe(
      'AVX-512 + VNNI + BF16',
    );
    expect(vectorExtensions('fpu sse4_2 avx f16c avx2 bmi2')).toBe('AVX2, no AVX-512');
    expect(vectorExtensions('avx2 avx_vnni')).toBe('AVX2 + AVX-VNNI');
    expect(vectorExtensions('avx512f avx2')).toBe('AVX-512');
    expect(vectorExtensions('')).toBe('');
  });
});

describe.skipIf(!existsSync(model))('BENCHMARKS.md sections of the pipeline and expression suites (built CLI)', () => {
  it('bench pipeline --write-benchmarks: per-photo table, face counts, median, peak RSS, model load', async () => {
    const file = await staleBenchmarksFile(dir, 'pipeline');
    const photo = demoPhotoPaths()[0];
    const args = ['bench', 'pipeline', '--only', 'ferkit', '--runs', '1', '--photos', photo];
    const r = await ferkit([...args, '--write-benchmarks', '--benchmarks-file', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`updated the pipeline section of ${file}`);
    expect(r.stdout).toMatch(/^ferkit \(.*\): median [\d.]+ ms per photo/m);
    const section = await expectSection(file, 'pipeline', '## Full pipeline vs face-api', [
      ...args,
      '--write-benchmarks',
      '--benchmarks-file',
      file,
    ]);
    expect(section).toContain('1 photo resized so the longer side is 800 px');
    expect(section).toContain('| photo | size | ferkit faces | ferkit ms |\n| --- | --- | ---: | ---: |');
    expect(section).toMatch(/\| sample1\.jpg \| 800×\d+ \| [1-9]\d* \| [\d.]+ \|/);
    expect(section).toMatch(
      /^- ferkit \(.*\): median [\d.]+ ms per photo, peak RSS \d+ MiB, model load \d+ ms; stage medians \(ms\): detect [\d.]+, landmarks [\d.]+, align [\d.]+, expression [\d.]+$/m,
    );
    expect(section).not.toContain('ratio'); // one engine: no ratio
  }, 300_000);

  it('bench expression --write-benchmarks --json: the ms-per-face table, JSON alone on stdout', async () => {
    const file = await staleBenchmarksFile(dir, 'expression');
    const args = [
      'bench',
      'expression',
      model,
      '--runs',
      '10',
      '--json',
      '--write-benchmarks',
      '--benchmarks-file',
      file,
    ];
    const r = await ferkit(args);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      engine: string;
      tta: string;
      msPerFaceSingle: number;
      msPerFaceBatched: number;
    }[];
    // both engines by default: onnxruntime-node and onnxruntime-web's WASM backend
    expect(rows.map((x) => `${x.engine}/${x.tta}`)).toEqual(['node/flip', 'node/none', 'wasm/flip', 'wasm/none']);
    for (const x of rows) expect(x.msPerFaceSingle).toBeGreaterThan(0);
    expect(r.stderr).toContain(`updated the expression section of ${file}`);
    const section = await expectSection(file, 'expression', '## Expression models: milliseconds per face', args);
    expect(section).toContain('10 single-face calls per model, engine and TTA');
    expect(section).toContain('| model | engine | TTA | threads | ms/face (1 per call) | ms/face (batch of 32) |');
    const engineLabel = { node: 'onnxruntime-node', wasm: 'onnxruntime-web WASM' } as Record<string, string>;
    for (const x of rows)
      expect(section).toContain(
        `| ${model} | ${engineLabel[x.engine]} | ${x.tta} | 1 | ${x.msPerFaceSingle.toFixed(2)} | ${x.msPerFaceBatched.toFixed(2)} |`,
      );
    const wasmOnly = await ferkit(['bench', 'expression', model, '--runs', '10', '--json', '--engine', 'wasm']);
    expect(JSON.parse(wasmOnly.stdout).map((x: { engine: string }) => x.engine)).toEqual(['wasm', 'wasm']);
    const bad = await ferkit(['bench', 'expression', model, '--engine', 'gpu']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--engine: expected one of node, wasm, all, got "gpu"/);
  }, 300_000);

  it("bench landmarks --write-benchmarks --json: ferkit's and face-api's landmark stage per face, both engines", async () => {
    const file = await staleBenchmarksFile(dir, 'landmarks');
    const args = ['bench', 'landmarks', '--runs', '10', '--json', '--write-benchmarks', '--benchmarks-file', file];
    const r = await ferkit(args);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { model: string; engine: string; msPerFaceSingle: number; faces: number }[];
    expect(rows.map((x) => `${x.engine}/${x.model}`)).toEqual([
      'node/ferkit-landmarks',
      'node/face-api FaceLandmark68Net',
      'wasm/ferkit-landmarks',
      'wasm/face-api FaceLandmark68Net',
    ]);
    for (const x of rows) {
      expect(x.msPerFaceSingle).toBeGreaterThan(0);
      expect(x.faces).toBe(5); // sample5.jpg's five faces
    }
    const section = await expectSection(file, 'landmarks', '## Landmark models: milliseconds per face', args);
    expect(section).toContain('| model | engine | threads | ms/face (1 per call) | ms/face (5 per call) |');
    const bad = await ferkit(['bench', 'landmarks', '--photo', '/nonexistent/face.jpg']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('/nonexistent/face.jpg');
  }, 300_000);
});
