/**
 * `ferkit bench afw`: detection recall and landmark NME on AFW (src/eval/afw.ts), overall and by
 * head pose (src/eval/afw-pose.ts). src/cli/bench.ts dispatches to runAfwBench, which returns the
 * process exit code, and lists AFW_OPTIONS in its help; the evaluation itself is loaded only when
 * the suite runs.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BENCHMARKS_ARGS, benchmarksHelp, writeRequestedSection } from '../bench/report.js';
import { SSD_DEFAULT_INPUT_SIZE, SSD_DEFAULT_PRECISION, SSD_PRECISIONS } from '../detect/ssd.js';
import type { AfwDetectorSpec } from '../eval/afw.js';
import { DEFAULT_LANDMARK_KIND, LANDMARK_KINDS } from '../landmarks/default-model.js';
import { errorMessage, parseChoice, parseCommandArgs, parseNumber, UsageError } from './command.js';

/** The suite's options (--help), without the BENCHMARKS.md ones that every suite shares. */
export const AFW_OPTIONS = `  --data DIR              AFW folder (default $FERKIT_DATA/afw, else ../shared/data/afw)
  --detector cnn|blazeface|haar|dlib|all
                          detectors to run (default all)
  --landmarks ${LANDMARK_KINDS.join('|')}|all
                          68-point model(s) on each detector's boxes (default ${DEFAULT_LANDMARK_KIND});
                          dlib's predictor gets each detector's boxes mapped to its convention
  --dlib-upsample N       dlib detector: upsample N times first (default 1, as dlib)
  --sizes LIST            SSD input sizes for cnn, comma-separated (default ${SSD_DEFAULT_INPUT_SIZE}),
                          e.g. 512,448,384,320
  --precision LIST        SSD builds for cnn: int8, float or int8,float (default ${SSD_DEFAULT_PRECISION})
  --score X               cnn and blazeface score threshold (default: the detector's: cnn 0.5
                          at 512, 0.3 below; blazeface 0.4)
  --limit N               only the first N photos
  --threads N             intra-op threads per model (default 1)
  --no-landmarks          skip the landmark model (recall only)
  --json                  print the report as JSON (summaries and the head-pose breakdown)
  --out FILE.md           also write the Markdown report to FILE.md`;

export const AFW_BENCH_HELP = `Usage: ferkit bench afw [options]

Face detection recall and 68-point landmark error (NME) on AFW (185 photos, 337 faces, 300-W
annotations). GT box = bounding box of a face's 68 points; recall at IoU ≥ 0.5, IoU ≥ 0.3,
tolerant (GT centre inside the detection, sizes within 2x), and IoU ≥ 0.5 after a held-out box
calibration. NME = mean point error / outer-eye-corner distance, on each found face. Both are
also broken down by head pose: each face's yaw is fitted to its annotated points (generic 3D
face, weak perspective) and binned frontal (< 15°), 15–45° and > 45°.

Options:
${AFW_OPTIONS}
${benchmarksHelp('afw', 26)}
  -h, --help              this help`;

/** The section's heading; formatAfwMarkdown's own title line is left out of the section. */
const SECTION_HEADING = '## AFW: detection recall and landmark error';

export async function runAfwBench(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  function parse(args: string[]) {
    return parseCommandArgs(args, {
      data: { type: 'string' },
      detector: { type: 'string' },
      landmarks: { type: 'string' },
      'dlib-upsample': { type: 'string' },
      sizes: { type: 'string' },
      precision: { type: 'string' },
      score: { type: 'string' },
      limit: { type: 'string' },
      threads: { type: 'string' },
      'no-landmarks': { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      ...BENCHMARKS_ARGS,
      help: { type: 'boolean', short: 'h' },
    });
  }
  try {
    const parsed = parse(argv);
    if (parsed.positionals.length) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
    values = parsed.values;
  } catch (e) {
    console.error(`ferkit bench afw: ${errorMessage(e)}\n\n${AFW_BENCH_HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(AFW_BENCH_HELP);
    return 0;
  }
  let specs: AfwDetectorSpec[];
  let limit: number | undefined;
  let threads: number;
  try {
    const which =
      parseChoice(values.detector, '--detector', ['cnn', 'blazeface', 'haar', 'dlib', 'all'] as const) ?? 'all';
    const landmarks = parseChoice(values.landmarks, '--landmarks', [...LANDMARK_KINDS, 'all'] as const);
    const landmarkKinds = landmarks === 'all' ? LANDMARK_KINDS : [landmarks ?? DEFAULT_LANDMARK_KIND];
    const upsample = parseNumber(values['dlib-upsample'], '--dlib-upsample', 0, 8) ?? 1;
    if (!Number.isInteger(upsample)) throw new UsageError('--dlib-upsample: expected an integer');
    const sizes = (values.sizes ?? String(SSD_DEFAULT_INPUT_SIZE)).split(',').map((s) => {
      const n = parseNumber(s.trim(), '--sizes', 64, 1024);
      if (n === undefined || !Number.isInteger(n))
        throw new UsageError(`--sizes: expected integers, got "${values.sizes}"`);
      return n;
    });
    const precisions = (values.precision ?? SSD_DEFAULT_PRECISION)
      .split(',')
      .map((p) => parseChoice(p.trim(), '--precision', SSD_PRECISIONS) ?? SSD_DEFAULT_PRECISION);
    const score = parseNumber(values.score, '--score', 0, 0.999);
    limit = parseNumber(values.limit, '--limit', 1, 1e6);
    if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError('--limit: expected an integer');
    threads = parseNumber(values.threads, '--threads', 0, 64) ?? 1;
    const detectorSpecs: AfwDetectorSpec[] = [];
    if (which === 'cnn' || which === 'all') {
      for (const inputSize of [...new Set(sizes)]) {
        for (const precision of [...new Set(precisions)]) {
          detectorSpecs.push({
            kind: 'cnn',
            inputSize,
            precision,
            detectOptions: score === undefined ? undefined : { scoreThreshold: score },
          });
        }
      }
    }
    if (which === 'blazeface' || which === 'all') {
      detectorSpecs.push({
        kind: 'blazeface',
        detectOptions: score === undefined ? undefined : { scoreThreshold: score },
      });
    }
    if (which === 'haar' || which === 'all') detectorSpecs.push({ kind: 'haar' });
    if (which === 'dlib' || which === 'all') detectorSpecs.push({ kind: 'dlib', upsample });
    specs = landmarkKinds.flatMap((landmarks) => detectorSpecs.map((d) => ({ ...d, landmarks })));
  } catch (e) {
    console.error(`ferkit bench afw: ${errorMessage(e)}\n\n${AFW_BENCH_HELP}`);
    return 2;
  }

  const { afwAvailable, defaultAfwDir, runAfwEvaluation } = await import('../eval/afw.js');
  const { formatAfwMarkdown } = await import('../eval/afw-report.js');
  const dir = resolve(values.data ?? defaultAfwDir());
  if (!(await afwAvailable(dir))) {
    console.log(`ferkit bench afw: skipped, no AFW data at ${dir} (expected landmarks68.json; see --data)`);
    return 0;
  }
  try {
    const report = await runAfwEvaluation({
      dir,
      detectors: specs,
      limit,
      threads,
      landmarks: !values['no-landmarks'],
      log: (m) => console.error(m),
    });
    const markdown = formatAfwMarkdown(report);
    if (values.json) {
      const { results: _omit, ...summary } = report;
      console.log(JSON.stringify(summary, null, 2));
    } else {
      console.log(markdown);
    }
    if (values.out) await writeFile(values.out, markdown);
    await writeRequestedSection(values, 'afw', SECTION_HEADING, markdown.replace(/^# .*\n+/, ''));
    return 0;
  } catch (e) {
    console.error(`ferkit bench afw: ${errorMessage(e)}`);
    return 1;
  }
}
