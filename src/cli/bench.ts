/** `ferkit bench`: the suites, their help, and the pipeline and expression suites (the others have their own files). */
import { CORRUPTIONS } from '../bench/corruptions.js';
import { demoPhotoPaths } from '../bench/photos.js';
import {
  benchPipeline,
  formatPipelineBench,
  type PipelineBenchOptions,
  pipelineBenchMarkdown,
} from '../bench/pipeline.js';
import { benchmarksHelp } from '../bench/report.js';
import { DEFAULT_EXPRESSION_MODEL } from '../node/expression-model.js';
import { expandInputs } from '../node/inputs.js';
import { DEFAULT_DETECTOR_KIND } from '../node/stages.js';
import { AFW_BENCH_HELP, AFW_OPTIONS } from './bench-afw.js';
import { finishTimingSuite, parseInteger, parseSuiteArgs } from './bench-args.js';
import { FOLLOW_BENCH_HELP, FOLLOW_OPTIONS } from './bench-follow.js';
import { peers } from './bench-peers.js';
import { robustness } from './bench-robustness.js';
import { type Command, parseChoice, parseNumber, UsageError } from './command.js';

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
  landmarks   ms per face of the 68-point landmark stage, ferkit's model and face-api's, on
              onnxruntime-node and onnxruntime-web WASM, single-threaded, one face per call
              and every face of a demo photo per call (--runs N, --threads N, --engine, --json)
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
  --detector blazeface|cnn|haar
                        ferkit's detector (default blazeface)
  --only ferkit|faceapi run one engine

Options (expression):
  MODEL...              models to time, names or paths (default: every model in models/)
  --runs N              single-face calls timed per model and TTA (default 300, at least 10)
  --threads N           intra-op threads (default 1)
  --engine node|wasm|all  onnxruntime-node, onnxruntime-web's WASM backend (the browser
                        app's engine without WebGPU, run in Node), or both (default all)

Options (landmarks):
  --photo FILE          photo whose detected faces are timed (default: face-api's sample5.jpg, 5 faces)
  --runs N              single-face calls timed per model and engine (default 300, at least 10)
  --threads N           intra-op threads (default 1)
  --engine node|wasm|all  as for expression (default all)

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

async function landmarks(argv: string[]): Promise<number> {
  const { benchLandmarks, formatLandmarkBench, LANDMARK_BENCH_ENGINES, landmarkBenchMarkdown } = await import(
    '../bench/landmarks.js'
  );
  const { values } = parseSuiteArgs(argv, {
    photo: { type: 'string' },
    runs: { type: 'string' },
    threads: { type: 'string' },
    engine: { type: 'string' },
  });
  const photo = values.photo ?? demoPhotoPaths().find((p) => p.endsWith('sample5.jpg')) ?? demoPhotoPaths()[0];
  const runs = parseInteger(values.runs, '--runs', 10, 100000) ?? 300;
  const threads = parseInteger(values.threads, '--threads', 1, 64) ?? 1;
  const engine = parseChoice(values.engine, '--engine', ['node', 'wasm', 'all'] as const) ?? 'all';
  const rows = await benchLandmarks(photo, {
    runs,
    threads,
    engines: engine === 'all' ? LANDMARK_BENCH_ENGINES : [engine],
  });
  return finishTimingSuite(values, rows, formatLandmarkBench, {
    name: 'landmarks',
    heading: '## Landmark models: milliseconds per face',
    body: landmarkBenchMarkdown(rows, photo, runs),
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
    detector:
      parseChoice(values.detector, '--detector', ['blazeface', 'cnn', 'haar'] as const) ?? DEFAULT_DETECTOR_KIND,
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
  landmarks,
  afw: async (argv) => (await import('./bench-afw.js')).runAfwBench(argv),
  follow: async (argv) => (await import('./bench-follow.js')).runFollowBench(argv),
  robustness,
  peers,
};

const command: Command = {
  name: 'bench',
  summary: 'benchmarks: pipeline speed vs face-api, landmark and expression models, robustness, peers',
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
