import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { CORRUPTIONS, corruptionByName } from '../bench/corruptions.js';
import type { TfBackend } from '../bench/peer-models.js';
import type { PeerSpec } from '../bench/peers.js';
import { demoPhotoPaths } from '../bench/photos.js';
import {
  benchPipeline,
  formatPipelineBench,
  type PipelineBenchOptions,
  pipelineBenchMarkdown,
} from '../bench/pipeline.js';
import { BENCHMARKS_ARGS, type BenchmarksArgs, benchmarksHelp, writeRequestedSection } from '../bench/report.js';
import type { RobustnessResult } from '../bench/robustness.js';
import {
  FER2013_SPLITS,
  type Fer2013Data,
  type Fer2013Split,
  loadFer2013,
  parseFer2013Split,
} from '../data/fer2013.js';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { DEFAULT_EXPRESSION_MODEL, loadExpressionModel } from '../node/expression-model.js';
import { expandInputs } from '../node/inputs.js';
import { nodeRuntime } from '../node/runtime.js';
import { EXPRESSION_LABELS } from '../types.js';
import { AFW_BENCH_HELP, AFW_OPTIONS } from './bench-afw.js';
import { FOLLOW_BENCH_HELP, FOLLOW_OPTIONS } from './bench-follow.js';
import { type Command, parseChoice, parseCommandArgs, parseNumber, UsageError } from './command.js';
import { ProgressBar } from './progress.js';

const help = `Usage: ferkit bench <suite> [options]

Suites:
  pipeline    ferkit's full pipeline vs face-api (node-wasm) on the same photos, one run,
              each engine in its own process: median ms per photo, ratio, peak memory
  robustness  accuracy and macro-F1 of an expression model on FER2013 crops under 15
              corruptions (illumination, blur, noise, JPEG, low resolution, rotation,
              occlusion) at 5 severities, with relative corruption error (rCE) vs clean
  expression  ms per face of each expression model in models/ on onnxruntime-node and on
              onnxruntime-web WASM, single-threaded, one face per call and batched, with
              and without flip TTA (--runs N, --threads N, --engine, --json)
  afw         AFW (../shared/data/afw): detection recall against boxes from the 68 annotated
              points and landmark NME, per detector
  follow      frames/s and agreement with every-frame detection when the detector runs
              on every Nth video frame only (--detect-every of ferkit video and camera)
  peers       the same FER2013 crops through every ferkit model in models/, face-api's
              expression net and Human's emotion model (tfjs): accuracy, macro-F1, ECE, ms

Options (pipeline):
  --photos FILES|DIRS   photos to use (default: face-api's six demo photos)
  --size PX             resize so the longer side is PX (default 800; 0 = original)
  --runs N              timed runs per photo after 2 warm-ups (default 10)
  --detector cnn|haar   ferkit's detector (default cnn)
  --only ferkit|faceapi run one engine

Options (expression):
  MODEL...              models to time, names or paths (default: every model in models/)
  --runs N              single-face calls timed per model and TTA (default 300, at least 10)
  --threads N           intra-op threads (default 1)
  --engine node|wasm|all  onnxruntime-node, onnxruntime-web's WASM backend (the browser
                        app's engine without WebGPU, run in Node), or both (default all)

Options (afw):
${AFW_OPTIONS}

Options (follow):
${FOLLOW_OPTIONS}

Options (robustness):
  --data PATH           FER2013 .bin, fer2013.csv or image folder (required; see ferkit eval)
  --split NAME          split of a CSV / folder (default PublicTest)
  --model NAME|PATH     expression model (default ${DEFAULT_EXPRESSION_MODEL})
  --tta none|flip       test-time augmentation (default: the model card's)
  --limit N             first N faces only
  --severities LIST     e.g. 1-5 (default), 1,3,5 or 2
  --corruptions LIST    comma-separated names (default all: ${CORRUPTIONS.map((c) => c.name).join(', ')})
  --seed N              base seed of the random corruptions (default 0)
  --grid-face N         index of the face drawn in corruptions-grid.png (default: first happy face)
  --out DIR             where to write robustness.{md,csv,json,png} and corruptions-grid.png
                        (default ./ferkit-robustness)

Options (peers):
  --data PATH, --split NAME, --limit N   as above
  --model NAME|PATH     ferkit model(s) to include, repeatable (default: every model in models/)
  --peers LIST          which to run: ferkit,face-api,human (default all)
  --backend wasm|cpu    tfjs backend for face-api and Human (default wasm)
  --batch N             crops per call in the accuracy pass (default 64)
  --single N            single-crop calls timed per model (default 100)
  --out DIR             where to write peers.{md,csv,json} (default ./ferkit-peers)

Common:
  --threads N           ONNX Runtime intra-op threads for ferkit in robustness and peers
                        (default: all cores)
  --json                print one JSON object instead of the report
${benchmarksHelp()}
  -h, --help            this help

Examples:
  npm run bench   (= ferkit bench pipeline)
  ferkit bench robustness --data ../shared/data/fer2013/publictest.bin --limit 500
  ferkit bench peers --data ../shared/data/fer2013/publictest.bin --json > peers.json`;

/** Options every suite in this file takes: --json and the BENCHMARKS.md ones. */
const SUITE_ARGS = { json: { type: 'boolean' }, ...BENCHMARKS_ARGS } as const;

/** parseCommandArgs with SUITE_ARGS added; positionals are refused unless the suite takes them. */
function parseSuiteArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  takesPositionals = false,
) {
  const parsed = parseCommandArgs(argv, { ...options, ...SUITE_ARGS });
  if (!takesPositionals && parsed.positionals.length)
    throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return parsed;
}

function parseSeverities(value: string | undefined): number[] {
  if (value === undefined) return [1, 2, 3, 4, 5];
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^\s*(\d)\s*(?:-\s*(\d)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`--severities: expected e.g. 1-5 or 1,3,5, got "${value}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b > 5 || a > b) throw new UsageError(`--severities: severities are 1..5, got "${part.trim()}"`);
    for (let s = a; s <= b; s++) out.add(s);
  }
  return [...out].sort((x, y) => x - y);
}

function parseInteger(
  value: string | undefined,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const n = parseNumber(value, flag, min, max);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  return n;
}

function parseSplit(value: string | undefined): Fer2013Split | undefined {
  if (value === undefined) return undefined;
  const split = parseFer2013Split(value);
  if (!split) throw new UsageError(`--split: expected one of ${FER2013_SPLITS.join(', ')}, got "${value}"`);
  return split;
}

async function loadData(
  values: { data?: string; split?: string; limit?: string },
  suite: string,
): Promise<Fer2013Data> {
  if (!values.data)
    throw new UsageError(`bench ${suite}: --data is required (a FER2013 .bin, fer2013.csv or image folder)`);
  const data = await loadFer2013(values.data, {
    split: parseSplit(values.split),
    limit: parseInteger(values.limit, '--limit', 1),
  });
  for (const w of data.warnings) console.error(`ferkit bench ${suite}: warning: ${w}`);
  return data;
}

/**
 * How a timing suite ends: its BENCHMARKS.md section when --write-benchmarks asks for one, then the
 * result on stdout, as indented JSON with --json or as the suite's text table.
 */
async function finishTimingSuite<T>(
  values: BenchmarksArgs,
  result: T,
  format: (result: T) => string,
  section: { name: string; heading: string; body: string },
): Promise<number> {
  await writeRequestedSection(values, section.name, section.heading, section.body);
  console.log(values.json ? JSON.stringify(result, null, 2) : format(result));
  return 0;
}

/** Markdown image links from BENCHMARKS.md to files, when they live beside it (in the repo). */
function imageLinks(benchmarksFile: string, files: Record<string, string>): string {
  const base = dirname(resolve(benchmarksFile));
  const links = Object.entries(files)
    .map(([alt, f]) => [alt, relative(base, f)] as const)
    .filter(([, rel]) => !rel.startsWith('..') && !rel.startsWith(sep))
    .map(([alt, rel]) => `![${alt}](${rel.split(sep).join('/')})`);
  return links.join('\n\n');
}

async function robustness(argv: string[]): Promise<number> {
  const { runRobustness } = await import('../bench/robustness.js');
  const { robustnessCsv, robustnessMarkdown } = await import('../bench/robustness-report.js');
  const { corruptionGridPng, robustnessChartPng } = await import('../bench/robustness-charts.js');
  const { values } = parseSuiteArgs(argv, {
    data: { type: 'string' },
    split: { type: 'string' },
    model: { type: 'string' },
    tta: { type: 'string' },
    limit: { type: 'string' },
    severities: { type: 'string' },
    corruptions: { type: 'string' },
    seed: { type: 'string' },
    'grid-face': { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
  });
  const severities = parseSeverities(values.severities);
  const corruptions = values.corruptions
    ? values.corruptions.split(',').map((s) => {
        try {
          return corruptionByName(s.trim());
        } catch (e) {
          throw new UsageError(`--corruptions: ${(e as Error).message}`);
        }
      })
    : CORRUPTIONS;
  const seed = parseInteger(values.seed, '--seed', 0, 2 ** 32 - 1) ?? 0;
  const tta = parseChoice<TestTimeAugmentation>(values.tta, '--tta', ['none', 'flip']);
  const threads = parseInteger(values.threads, '--threads', 0, 256);
  const gridFace = parseInteger(values['grid-face'], '--grid-face', 0);
  const outDir = resolve(values.out ?? 'ferkit-robustness');

  const data = await loadData(values, 'robustness');
  const model = await loadExpressionModel(values.model ?? DEFAULT_EXPRESSION_MODEL);
  const classifier = await ExpressionClassifier.create(nodeRuntime, model.bytes, model.card, model.path, {
    tta,
    threads,
    maxBatch: 256,
  });
  const ctx = { model: model.card.name, tta: classifier.tta, data: basename(data.source) };
  const bar = new ProgressBar(data.images.length * (1 + corruptions.length * severities.length), 'crops');
  let result: RobustnessResult;
  try {
    result = await runRobustness({
      images: data.images,
      labels: data.labels,
      model: classifier,
      corruptions,
      severities,
      seed,
      batch: 128,
      onProgress: (done, _total, what) => bar.update(done, what),
    });
  } finally {
    bar.finish();
    await classifier.dispose();
  }

  await mkdir(outDir, { recursive: true });
  const files = {
    markdown: join(outDir, 'robustness.md'),
    csv: join(outDir, 'robustness.csv'),
    json: join(outDir, 'robustness.json'),
    chart: join(outDir, 'robustness.png'),
    grid: join(outDir, 'corruptions-grid.png'),
  };
  const md = robustnessMarkdown(result, ctx);
  const happy = EXPRESSION_LABELS.indexOf('happy');
  let face = gridFace ?? Array.from(data.labels).indexOf(happy);
  if (face < 0 || face >= data.images.length) face = 0;
  const report = {
    model: model.card.name,
    modelPath: model.path,
    tta: classifier.tta,
    data: data.source,
    ...result,
    gridFace: face,
    files,
  };
  await writeFile(files.markdown, `# Robustness: ${ctx.model} on ${ctx.data}\n\n${md}\n`);
  await writeFile(files.csv, robustnessCsv(result));
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.chart, robustnessChartPng(result, ctx));
  await writeFile(
    files.grid,
    await corruptionGridPng(data.images[face], {
      corruptions,
      severities,
      seed,
      title: `Corruptions × severities on ${ctx.data} face #${face} (seed ${seed})`,
    }),
  );
  await writeRequestedSection(values, 'robustness', '## Robustness to image corruptions', (file) => {
    const links = imageLinks(file, {
      'accuracy vs severity': files.chart,
      'one face under every corruption': files.grid,
    });
    return `${md}${links ? `\n\n${links}` : ''}`;
  });
  if (values.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  const famRows = result.families.map(
    (f) =>
      `  ${f.name.padEnd(13)} accuracy ${(100 * f.accuracy).toFixed(1).padStart(5)}%  macro-F1 ${f.macroF1.toFixed(3)}  rCE ${(100 * f.rce).toFixed(0).padStart(4)}%`,
  );
  console.log(
    [
      `ferkit bench robustness: ${ctx.model} (TTA ${ctx.tta}) on ${data.source}, ${result.n} faces, seed ${seed}`,
      `clean: accuracy ${(100 * result.clean.accuracy).toFixed(1)}%, macro-F1 ${result.clean.macroF1.toFixed(3)}`,
      `under corruption (mean of ${corruptions.length} corruptions × severities ${severities.join(',')}): accuracy ${(100 * result.overall.accuracy).toFixed(1)}%, macro-F1 ${result.overall.macroF1.toFixed(3)}, rCE ${(100 * result.overall.rce).toFixed(0)}%`,
      '',
      ...famRows,
      '',
      `wrote ${Object.values(files).join(', ')} (${result.seconds.toFixed(0)} s)`,
    ].join('\n'),
  );
  return 0;
}

const PEER_KINDS = ['ferkit', 'face-api', 'human'] as const;

async function peers(argv: string[]): Promise<number> {
  const { listExpressionModels, loadFerkitPeer, peersCsv, peersMarkdown, formatPeers, runPeers } = await import(
    '../bench/peers.js'
  );
  const { loadFaceApiExpression, loadHumanEmotion } = await import('../bench/peer-models.js');
  const { values } = parseSuiteArgs(argv, {
    data: { type: 'string' },
    split: { type: 'string' },
    limit: { type: 'string' },
    model: { type: 'string', multiple: true },
    peers: { type: 'string' },
    backend: { type: 'string' },
    batch: { type: 'string' },
    single: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
  });
  const kinds = (values.peers ?? PEER_KINDS.join(','))
    .split(',')
    .map((s) => parseChoice(s.trim(), '--peers', PEER_KINDS)!);
  const backend = parseChoice<TfBackend>(values.backend, '--backend', ['wasm', 'cpu']) ?? 'wasm';
  const batch = parseInteger(values.batch, '--batch', 1, 4096) ?? 64;
  const single = parseInteger(values.single, '--single', 0, 100_000) ?? 100;
  const threads = parseInteger(values.threads, '--threads', 0, 256);
  const outDir = resolve(values.out ?? 'ferkit-peers');
  const data = await loadData(values, 'peers');

  const specs: PeerSpec[] = [];
  if (kinds.includes('ferkit')) {
    const models = values.model?.length ? values.model : await listExpressionModels();
    if (!models.length) console.error('ferkit bench peers: warning: no expression models found in models/');
    for (const m of models) specs.push({ name: m, load: () => loadFerkitPeer(m, { threads }) });
  }
  if (kinds.includes('face-api'))
    specs.push({ name: 'face-api expression', load: () => loadFaceApiExpression(backend) });
  if (kinds.includes('human')) specs.push({ name: 'Human emotion', load: () => loadHumanEmotion(backend) });

  const bar = new ProgressBar(data.images.length * specs.length, 'crops');
  const report = await runPeers({
    images: data.images,
    labels: data.labels,
    peers: specs,
    data: data.source,
    batch,
    singleCalls: single,
    onProgress: (peer, done) => bar.update(done, peer),
  });
  bar.finish();

  await mkdir(outDir, { recursive: true });
  const files = {
    markdown: join(outDir, 'peers.md'),
    csv: join(outDir, 'peers.csv'),
    json: join(outDir, 'peers.json'),
  };
  const md = peersMarkdown(report);
  await writeFile(files.markdown, `# Expression models on ${basename(data.source)}\n\n${md}\n`);
  await writeFile(files.csv, peersCsv(report));
  const full = { ...report, files };
  await writeFile(files.json, `${JSON.stringify(full, null, 2)}\n`);
  await writeRequestedSection(values, 'peers', '## ferkit and other open expression models on the same crops', md);
  console.log(
    values.json ? JSON.stringify(full) : `${formatPeers(report)}\n\nwrote ${Object.values(files).join(', ')}`,
  );
  return 0;
}

async function expression(argv: string[]): Promise<number> {
  const {
    benchExpression,
    bundledExpressionModels,
    EXPRESSION_BENCH_ENGINES,
    expressionBenchMarkdown,
    formatExpressionBench,
  } = await import('../bench/expression.js');
  const { values, positionals } = parseSuiteArgs(
    argv,
    { runs: { type: 'string' }, threads: { type: 'string' }, engine: { type: 'string' } },
    true,
  );
  const models = positionals.length ? positionals : bundledExpressionModels();
  const runs = parseInteger(values.runs, '--runs', 10, 100000) ?? 300;
  const threads = parseInteger(values.threads, '--threads', 1, 64) ?? 1;
  const engine = parseChoice(values.engine, '--engine', ['node', 'wasm', 'all'] as const) ?? 'all';
  const engines = engine === 'all' ? EXPRESSION_BENCH_ENGINES : [engine];
  const rows = await benchExpression(models, { runs, batch: 32, threads, engines });
  return finishTimingSuite(values, rows, formatExpressionBench, {
    name: 'expression',
    heading: '## Expression models: milliseconds per face',
    body: expressionBenchMarkdown(rows, runs),
  });
}

async function pipeline(argv: string[]): Promise<number> {
  const { values, positionals } = parseSuiteArgs(
    argv,
    {
      photos: { type: 'string', multiple: true },
      size: { type: 'string' },
      runs: { type: 'string' },
      detector: { type: 'string' },
      only: { type: 'string' },
    },
    true,
  );
  const photos =
    values.photos || positionals.length
      ? await expandInputs([...(values.photos ?? []), ...positionals])
      : demoPhotoPaths();
  const only = parseChoice(values.only, '--only', ['ferkit', 'faceapi'] as const);
  const options: PipelineBenchOptions = {
    photos,
    runs: parseNumber(values.runs, '--runs', 1, 1000) ?? 10,
    longSide: parseNumber(values.size, '--size', 0, 10000) ?? 800,
    detector: parseChoice(values.detector, '--detector', ['cnn', 'haar'] as const) ?? 'cnn',
    engines: only ? [only] : ['ferkit', 'faceapi'],
  };
  const result = await benchPipeline(options);
  return finishTimingSuite(values, result, formatPipelineBench, {
    name: 'pipeline',
    heading: '## Full pipeline vs face-api',
    body: pipelineBenchMarkdown(result, options),
  });
}

const SUITES: Record<string, (argv: string[]) => Promise<number>> = {
  pipeline,
  expression,
  afw: async (argv) => (await import('./bench-afw.js')).runAfwBench(argv),
  follow: async (argv) => (await import('./bench-follow.js')).runFollowBench(argv),
  robustness,
  peers,
};

const command: Command = {
  name: 'bench',
  summary: 'benchmarks: pipeline speed vs face-api, robustness to corruptions, expression models vs peers',
  help,
  helpFor: (argv) => (argv[0] === 'afw' ? AFW_BENCH_HELP : argv[0] === 'follow' ? FOLLOW_BENCH_HELP : help),
  async run(argv) {
    const [suite, ...rest] = argv;
    const run = Object.hasOwn(SUITES, suite ?? '') ? SUITES[suite] : undefined;
    if (!run) throw new UsageError(`unknown suite "${suite ?? ''}": expected ${Object.keys(SUITES).join(', ')}`);
    return run(rest);
  },
};

export default command;
