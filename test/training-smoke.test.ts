/**
 * The training recipe end to end on a tiny synthetic data set: train a few steps with PyTorch,
 * export ONNX + card + parity fixture, then load the result in TypeScript and match PyTorch.
 * Needs Debian's python3-torch (.ci/run installs it); skipped with a notice elsewhere unless CI is set.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkParity, MAX_PARITY_TOLERANCE } from './helpers/parity.js';

const PYTHON = process.env.FERKIT_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const trainingDir = join(import.meta.dirname, '..', 'training');

/** n random 48×48 records in the .bin format of ../shared/data/fer2013 (label byte + pixels). */
function syntheticBin(path: string, n: number, seed: number): void {
  const buf = Buffer.alloc(n * 2305);
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < n; i++) {
    const label = i % 7;
    buf[i * 2305] = label;
    // a class-dependent gradient plus noise, so a few steps can learn something
    for (let p = 0; p < 2304; p++) buf[i * 2305 + 1 + p] = Math.min(255, ((p % 48) * label * 5 + rand() * 60) | 0);
  }
  writeFileSync(path, buf);
}

interface PythonResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous on purpose: a synchronous child blocks the test worker, and on a busy machine that
 *  outlasts vitest's worker RPC timeout and fails the run. */
function python(args: string[]): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: trainingDir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** python -m MODULE ARGS…, its stdout; throws with stderr when it fails. */
async function pythonModule(args: string[]): Promise<string> {
  const r = await python(['-m', ...args]);
  if (r.status !== 0) throw new Error(`python3 -m ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

describe.runIf(hasTorch || process.env.CI)('training smoke test (PyTorch → ONNX → TypeScript)', () => {
  it('trains, exports a card and parity fixture, and loads in TypeScript with matching probabilities', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-train-'));
    syntheticBin(join(dir, 'train.bin'), 140, 1);
    syntheticBin(join(dir, 'val.bin'), 70, 2);
    // the same tiny model twice: 2 epochs, then --resume to 3
    const train = (epochs: number, out: string, ...extra: string[]) =>
      pythonModule([
        'ferkit_train.train',
        ...['--train', join(dir, 'train.bin'), '--val', join(dir, 'val.bin'), '--out', join(dir, out)],
        ...['--arch', 'resnet', '--widths', '8,16', '--depths', '1,1', '--block', 'bottleneck', '--stem-width', '8'],
        ...['--epochs', String(epochs), '--batch-size', '32', '--no-progress', '--threads', '1', ...extra],
      ]);
    const log = await train(2, 'run');
    expect(log).toMatch(/"epoch": 2/);
    const resumed = await train(3, 'run', '--resume');
    expect(resumed).toMatch(/resumed at epoch 2/);
    // a warm restart from that run's best weights, selecting on a moving average of the weights,
    // trained under bfloat16 autocast
    const restarted = await train(
      1,
      'warm',
      '--init',
      join(dir, 'run', 'best.pt'),
      '--ema',
      '0.9',
      '--precision',
      'bf16',
    );
    expect(restarted).toMatch(/initialised from .*best\.pt/);
    expect(restarted).toMatch(/"val_acc_tta_raw"/);
    const firstRun = JSON.parse(readFileSync(join(dir, 'run', 'log.json'), 'utf8')) as { val_acc_tta: number }[];
    const bestEpoch = firstRun.findIndex((r) => r.val_acc_tta === Math.max(...firstRun.map((x) => x.val_acc_tta))) + 1;
    await pythonModule([
      'ferkit_train.export',
      '--checkpoint',
      join(dir, 'warm', 'best.pt'),
      '--val',
      join(dir, 'val.bin'),
      '--name',
      'tiny',
      '--out',
      join(dir, 'models'),
    ]);
    const card = JSON.parse(readFileSync(join(dir, 'models', 'tiny.json'), 'utf8'));
    expect(card.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    expect(card.metrics.n).toBe(70);
    expect(card.parameters).toBeGreaterThan(0);
    expect(card.training.command).toContain('--init');
    expect(card.training.command).toContain('--precision bf16');
    expect(card.training.initializedFrom).toHaveLength(1);
    expect(card.training.initializedFrom[0].command).toContain('--widths 8,16');
    expect(card.training.totalEpochs).toBe(bestEpoch + 1);
    expect(card.training.weights).toMatch(/moving average/);
    // the raw weights an --ema run keeps beside the average in last.pt, and a clear error elsewhere
    const exportRaw = (checkpoint: string) => [
      ...['ferkit_train.export', '--checkpoint', join(dir, 'warm', checkpoint), '--raw-weights'],
      ...['--val', join(dir, 'val.bin'), '--name', 'tiny-raw', '--out', join(dir, 'models')],
    ];
    await pythonModule(exportRaw('last.pt'));
    const rawCard = JSON.parse(readFileSync(join(dir, 'models', 'tiny-raw.json'), 'utf8'));
    expect(rawCard.training.weights).toMatch(/raw weights of the last epoch/);
    // restarting again from that --ema run continues from its raw weights and records both runs before it
    const again = await train(1, 'warm2', '--init', join(dir, 'warm', 'last.pt'));
    expect(again).toMatch(/initialised from .*warm\/last\.pt's raw weights/);
    await pythonModule([
      ...['ferkit_train.export', '--checkpoint', join(dir, 'warm2', 'last.pt')],
      ...['--val', join(dir, 'val.bin'), '--name', 'tiny-again', '--out', join(dir, 'models')],
    ]);
    const againCard = JSON.parse(readFileSync(join(dir, 'models', 'tiny-again.json'), 'utf8'));
    expect(againCard.training.initializedFrom.map((r: { checkpoint: string }) => r.checkpoint)).toEqual([
      join(dir, 'run', 'best.pt'),
      join(dir, 'warm', 'last.pt'),
    ]);
    // a paired comparison of two checkpoints on the same faces: it scores them as export.py did
    const compare = async (a: string, b: string) =>
      JSON.parse(await pythonModule(['ferkit_train.compare', '--checkpoint', a, b, '--val', join(dir, 'val.bin')])) as {
        n: number;
        accuracyA: number;
        accuracyB: number;
        onlyA: number;
        onlyB: number;
        p: number;
      };
    const pair = await compare(join(dir, 'warm', 'best.pt'), join(dir, 'warm', 'last.pt:raw'));
    expect(pair.n).toBe(70);
    expect(pair.accuracyA).toBeCloseTo(card.metrics.accuracyTta, 10);
    expect(pair.accuracyB).toBeCloseTo(rawCard.metrics.accuracyTta, 10);
    expect((pair.onlyA - pair.onlyB) / 70).toBeCloseTo(pair.accuracyA - pair.accuracyB, 10);
    expect(pair.p).toBeGreaterThan(0);
    expect(pair.p).toBeLessThanOrEqual(1);
    const self = await compare(join(dir, 'run', 'best.pt'), join(dir, 'run', 'best.pt'));
    expect([self.onlyA, self.onlyB, self.p]).toEqual([0, 0, 1]);
    const refused = await python(['-m', ...exportRaw('best.pt')]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--raw-weights: .*best\.pt has no raw weights/);
    const { maxDiffTta, maxDiffNoTta } = await checkParity(join(dir, 'models', 'tiny.onnx'));
    expect(maxDiffTta).toBeLessThan(1e-4);
    expect(maxDiffNoTta).toBeLessThan(1e-4);
    // int8: calibrated on Training data only, refused without it, and loadable from TypeScript
    const exportInt8 = (...extra: string[]) => [
      ...['ferkit_train.export', '--checkpoint', join(dir, 'warm', 'best.pt'), '--int8', ...extra],
      ...['--val', join(dir, 'val.bin'), '--name', 'tiny-int8', '--out', join(dir, 'models')],
    ];
    const noCalibration = await python(['-m', ...exportInt8()]);
    expect(noCalibration.status).not.toBe(0);
    expect(noCalibration.stderr).toMatch(/--int8 needs --calibration/);
    await pythonModule(exportInt8('--calibration', join(dir, 'train.bin'), '--calibration-size', '64'));
    const int8Card = JSON.parse(readFileSync(join(dir, 'models', 'tiny-int8.json'), 'utf8'));
    expect(int8Card.precision).toBe('int8');
    expect(int8Card.quantization.calibration).toMatch(/^64 FER2013 Training faces/);
    expect(int8Card.parameters).toBe(card.parameters);
    const int8 = await checkParity(join(dir, 'models', 'tiny-int8.onnx'));
    expect(int8.precision).toBe('int8');
    expect(int8.tolerance).toBeLessThanOrEqual(MAX_PARITY_TOLERANCE.int8);
    expect(int8.maxDiffTta).toBeLessThan(int8.tolerance);
    expect(int8.maxDiffNoTta).toBeLessThan(int8.tolerance);
    // several checkpoints make one ensemble graph; ':raw' picks one member's raw weights
    const exportEnsemble = (name: string, ...extra: string[]) =>
      pythonModule([
        ...['ferkit_train.export', '--checkpoint', join(dir, 'run', 'best.pt'), join(dir, 'warm', 'last.pt:raw')],
        ...['--val', join(dir, 'val.bin'), '--name', name, '--out', join(dir, 'models'), ...extra],
      ]);
    await exportEnsemble('tiny-ensemble', '--tta', 'none');
    const ensembleCard = JSON.parse(readFileSync(join(dir, 'models', 'tiny-ensemble.json'), 'utf8'));
    expect(ensembleCard.calibration.tta).toBe('none'); // the run-time default hosts read from the card
    expect(card.calibration.tta).toBe('flip');
    expect(ensembleCard.family).toBe('resnet');
    expect(ensembleCard.parameters).toBe(2 * card.parameters);
    expect(ensembleCard.architecture.members.map((m: { temperature: number }) => m.temperature > 0)).toEqual([
      true,
      true,
    ]);
    expect(ensembleCard.training.members.map((m: { weights: string }) => m.weights)).toEqual([
      'as trained',
      'raw weights of the last epoch',
    ]);
    // every run behind every member, in order: run (member 1), then run and warm (member 2)
    expect(ensembleCard.training.command.split(' && ')).toHaveLength(3);
    const ensemble = await checkParity(join(dir, 'models', 'tiny-ensemble.onnx'));
    expect(ensemble.maxDiffTta).toBeLessThan(1e-4);
    expect(ensemble.maxDiffNoTta).toBeLessThan(1e-4);
    await exportEnsemble(
      'tiny-ensemble-int8',
      '--int8',
      '--calibration',
      join(dir, 'train.bin'),
      '--calibration-size',
      '64',
    );
    const ensembleInt8 = await checkParity(join(dir, 'models', 'tiny-ensemble-int8.onnx'));
    expect(ensembleInt8.precision).toBe('int8');
    expect(ensembleInt8.maxDiffTta).toBeLessThan(ensembleInt8.tolerance);
    // a weight average of one lineage's checkpoints is one network: same size, every run on its card
    const soupPath = join(dir, 'soup.pt');
    const soupOut = JSON.parse(
      await pythonModule([
        ...['ferkit_train.soup', '--checkpoint', join(dir, 'warm', 'best.pt'), join(dir, 'warm', 'last.pt:raw')],
        ...['--out', soupPath, '--val', join(dir, 'val.bin')],
      ]),
    ) as { members: number; memberAccuracy: number[]; accuracy: number };
    expect(soupOut.members).toBe(2);
    expect(soupOut.memberAccuracy).toEqual([card.metrics.accuracyTta, rawCard.metrics.accuracyTta]);
    await pythonModule([
      ...['ferkit_train.export', '--checkpoint', soupPath, '--val', join(dir, 'val.bin')],
      ...['--name', 'tiny-soup', '--out', join(dir, 'models')],
    ]);
    const soupCard = JSON.parse(readFileSync(join(dir, 'models', 'tiny-soup.json'), 'utf8'));
    expect(soupCard.parameters).toBe(card.parameters);
    expect(soupCard.metrics.accuracyTta).toBeCloseTo(soupOut.accuracy, 10);
    expect(soupCard.training.weights).toMatch(/uniform average of 2 checkpoints/);
    // run, then warm (both members come from it, named once), then the soup itself
    const soupRuns = soupCard.training.command.split(' && ');
    expect(soupRuns).toHaveLength(3);
    expect(soupRuns[2]).toMatch(/^python3 -m ferkit_train\.soup /);
    const soupParity = await checkParity(join(dir, 'models', 'tiny-soup.onnx'));
    expect(soupParity.maxDiffTta).toBeLessThan(1e-4);
    const fromSoup = await python([
      '-m',
      ...['ferkit_train.train', '--train', join(dir, 'train.bin'), '--val', join(dir, 'val.bin')],
      ...['--out', join(dir, 'from-soup'), '--widths', '8,16', '--depths', '1,1', '--block', 'bottleneck'],
      ...['--stem-width', '8', '--epochs', '1', '--no-progress', '--init', soupPath],
    ]);
    expect(fromSoup.status).not.toBe(0);
    expect(fromSoup.stderr).toMatch(/--init: .*soup\.pt is a weight average/);
  }, 300_000);

  it('refuses --init from a checkpoint of another architecture, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-train-'));
    syntheticBin(join(dir, 'train.bin'), 40, 3);
    const base = ['ferkit_train.train', '--train', join(dir, 'train.bin'), '--val', join(dir, 'train.bin')];
    const small = ['--widths', '8,16', '--depths', '1,1', '--stem-width', '8', '--no-progress', '--threads', '1'];
    await pythonModule([...base, '--out', join(dir, 'a'), ...small, '--epochs', '1']);
    const r = await python([
      '-m',
      ...base,
      '--out',
      join(dir, 'b'),
      ...small.map((x) => (x === '8,16' ? '8,32' : x)),
      '--init',
      join(dir, 'a', 'best.pt'),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--init: .*a\/best\.pt has architecture/);
  }, 120_000);

  it('runs the Python unit tests (data loaders: .bin, fer2013.csv, folders, bad input)', async () => {
    const r = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-v']);
    expect(r.stderr).toMatch(/OK/);
    expect(r.status).toBe(0);
  }, 120_000);
});
