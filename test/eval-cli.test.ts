/** `ferkit eval` end to end through the built CLI (run `npm run build` first; `npm test` does). */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSION_LABELS } from '../src/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'cli', 'main.js');
const model = resolve(root, process.env.FERKIT_TEST_MODEL ?? 'models/ferkit-resnet.onnx');
const RECORD = 1 + 48 * 48;
const PER_CLASS = 3;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ferkit(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: root, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
let tinyBin: string;

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npx tsc -p tsconfig.json\` (or npm run build) first`);
  dir = await mkdtemp(join(tmpdir(), 'ferkit-eval-cli-'));
  // 3 records per class: smooth synthetic faces-ish patterns, different per record.
  const n = PER_CLASS * EXPRESSION_LABELS.length;
  const bytes = new Uint8Array(n * RECORD);
  for (let i = 0; i < n; i++) {
    const o = i * RECORD;
    bytes[o] = i % EXPRESSION_LABELS.length;
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++)
        bytes[o + 1 + y * 48 + x] = Math.floor(127.5 + 127.5 * Math.sin(0.11 * (i + 1) * x + 0.07 * y + i));
    }
  }
  tinyBin = join(dir, 'tiny.bin');
  await writeFile(tinyBin, bytes);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(model))(`ferkit eval with ${model}`, () => {
  it('--json: one object whose counts and metrics are consistent', async () => {
    const out = join(dir, 'out');
    const r = await ferkit(['eval', '--data', tinyBin, '--json', '--model', model, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout); // exactly one JSON object on stdout
    const n = PER_CLASS * EXPRESSION_LABELS.length;
    expect(j.n).toBe(n);
    expect(typeof j.model).toBe('string');
    expect(['none', 'flip']).toContain(j.tta);
    // The confusion matrix: 7×7, sums to n, rows are the per-class supports.
    expect(j.confusion).toHaveLength(7);
    const flat: number[] = j.confusion.flat();
    expect(flat.reduce((a, b) => a + b, 0)).toBe(n);
    const trace = j.confusion.reduce((t: number, row: number[], i: number) => t + row[i], 0);
    expect(j.accuracy).toBeCloseTo(trace / n, 12);
    expect(Object.keys(j.perClass)).toEqual([...EXPRESSION_LABELS]);
    EXPRESSION_LABELS.forEach((name, i) => {
      const c = j.perClass[name];
      expect(c.support).toBe(PER_CLASS);
      expect(c.support).toBe(j.confusion[i].reduce((a: number, b: number) => a + b, 0));
      for (const k of ['precision', 'recall', 'f1']) expect(c[k]).toBeGreaterThanOrEqual(0);
      expect(c.recall).toBeCloseTo(j.confusion[i][i] / PER_CLASS, 12);
    });
    const meanF1 = EXPRESSION_LABELS.reduce((s, name) => s + j.perClass[name].f1, 0) / 7;
    expect(j.macroF1).toBeCloseTo(meanF1, 12);
    expect(j.ece).toBeGreaterThanOrEqual(0);
    expect(j.ece).toBeLessThanOrEqual(1);
    expect(j.reliability).toHaveLength(15);
    expect(j.reliability.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(n);
    expect(j.msPerFace).toBeGreaterThan(0);
    expect(j.msPerFaceBatched).toBeGreaterThan(0);
    // Both charts are PNGs.
    for (const f of [join(out, 'confusion.png'), join(out, 'reliability.png')]) {
      expect(readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('--tta none and --limit, human-readable report', async () => {
    const out = join(dir, 'out2');
    const r = await ferkit([
      'eval',
      '--data',
      tinyBin,
      '--model',
      model,
      '--tta',
      'none',
      '--limit',
      '10',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accuracy\s+\d\.\d{4}/);
    expect(r.stdout).toMatch(/macro-F1/);
    expect(r.stdout).toMatch(/ECE/);
    expect(r.stdout).toMatch(/ms per face/);
    expect(r.stdout).toContain('10 faces');
    expect(r.stdout).toContain('TTA:        none');
    for (const name of EXPRESSION_LABELS) expect(r.stdout).toContain(name);
    expect(existsSync(join(out, 'reliability.png'))).toBe(true);
  });
});

describe('ferkit eval errors', () => {
  it('a missing --data path exits non-zero and names the file', async () => {
    const missing = join(dir, 'no-such-data.bin');
    const r = await ferkit(['eval', '--data', missing, '--json', '--model', model, '--out', join(dir, 'err')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
    expect(r.stdout).toBe('');
  });

  it('a .bin that is not whole records exits non-zero and names the file', async () => {
    const bad = join(dir, 'bad.bin');
    await writeFile(bad, new Uint8Array(RECORD + 10));
    const r = await ferkit(['eval', '--data', bad, '--model', model, '--out', join(dir, 'err')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/2305/);
  });

  it('no --data is a usage error (exit 2); --help explains the options', async () => {
    const r = await ferkit(['eval']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data/);
    const h = await ferkit(['eval', '--help']);
    expect(h.code).toBe(0);
    for (const flag of ['--data', '--split', '--model', '--tta', '--limit', '--json', '--out'])
      expect(h.stdout).toContain(flag);
  });
});

describe('ferkit models', () => {
  it('lists every bundled expression model with its precision and marks the default', async () => {
    const r = await ferkit(['models', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { default: string; expression: { name: string; precision?: string }[] };
    const names = j.expression.map((c) => c.name);
    expect(names).toContain(j.default);
    expect(j.expression.find((c) => c.name === j.default)?.precision).toBe('int8');
    const text = await ferkit(['models']);
    const defaultLine = text.stdout.split('\n').find((l) => l.includes('(default)'));
    // an ensemble's family shows its member count, as its card lists the members
    const family = (name: string) => {
      const card = JSON.parse(readFileSync(join(root, 'models', `${name}.json`), 'utf8'));
      const members = card.architecture.members?.length;
      return members ? `${card.family}×${members}` : card.family;
    };
    expect(family(j.default)).toBe('resnet×2');
    expect(defaultLine).toMatch(new RegExp(`^\\s+${j.default}\\s+${family(j.default)}\\s+int8\\s`));
    expect(text.stdout).toMatch(new RegExp(`^\\s+ferkit-resnet\\s+${family('ferkit-resnet')}\\s+fp32\\s`, 'm'));
  });
});
