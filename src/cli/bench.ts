import { benchPipeline, formatPipelineBench } from '../bench/pipeline.js';
import { demoPhotoPaths } from '../bench/photos.js';
import { expandInputs } from '../node/inputs.js';
import { type Command, parseChoice, parseCommandArgs, parseNumber, UsageError } from './command.js';

const help = `Usage: ferkit bench <suite> [options]

Suites:
  pipeline    ferkit's full pipeline vs face-api (node-wasm) on the same photos, one run,
              each engine in its own process: median ms per photo, ratio, peak memory

Options (pipeline):
  --photos FILES|DIRS   photos to use (default: face-api's six demo photos)
  --size PX             resize so the longer side is PX (default 800; 0 = original)
  --runs N              timed runs per photo after 2 warm-ups (default 10)
  --detector cnn|haar   ferkit's detector (default cnn)
  --only ferkit|faceapi run one engine
  --json                print the raw report as JSON
  -h, --help            this help

Example: npm run bench   (= ferkit bench pipeline)`;

const command: Command = {
  name: 'bench',
  summary: 'benchmarks: pipeline speed against face-api',
  help,
  async run(argv) {
    const [suite, ...rest] = argv;
    if (suite !== 'pipeline') throw new UsageError(`unknown suite "${suite ?? ''}": expected pipeline`);
    const { values, positionals } = parseCommandArgs(rest, {
      photos: { type: 'string', multiple: true },
      size: { type: 'string' },
      runs: { type: 'string' },
      detector: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean' },
    });
    const photos = values.photos || positionals.length ? await expandInputs([...(values.photos ?? []), ...positionals]) : demoPhotoPaths();
    const only = parseChoice(values.only, '--only', ['ferkit', 'faceapi'] as const);
    const report = await benchPipeline({
      photos,
      runs: parseNumber(values.runs, '--runs', 1, 1000) ?? 10,
      longSide: parseNumber(values.size, '--size', 0, 10000) ?? 800,
      detector: parseChoice(values.detector, '--detector', ['cnn', 'haar'] as const) ?? 'cnn',
      engines: only ? [only] : ['ferkit', 'faceapi'],
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatPipelineBench(report));
    return 0;
  },
};

export default command;
