/** `ferkit eval`: accuracy, macro-F1, calibration and speed of an expression model on FER2013. */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { FER2013_SPLITS, type Fer2013Split, loadFer2013, parseFer2013Split } from '../data/fer2013.js';
import { confusionMatrixPng, reliabilityDiagramPng } from '../eval/charts.js';
import { DEFAULT_ECE_BINS, summarize } from '../eval/metrics.js';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { DEFAULT_EXPRESSION_MODEL, loadExpressionModel } from '../node/expression-model.js';
import { nodeRuntime } from '../node/runtime.js';
import { EXPRESSION_LABELS } from '../types.js';
import { type Command, parseChoice, parseCommandArgs, parseNumber, UsageError } from './command.js';
import { ProgressBar } from './progress.js';

/** Faces per classifier call in the accuracy pass. */
const EVAL_BATCH = 64;
/** Single-face calls timed for msPerFace (after warm-up), at most. */
const TIMING_FACES = 200;
const TIMING_WARMUP = 5;

const help = `Usage: ferkit eval --data <fer2013.csv | folder | file.bin> [options]

Evaluate an expression model on FER2013 (or any data in its layout): accuracy, macro-F1,
expected calibration error, per-class precision/recall, the confusion matrix and ms per face.
Writes confusion.png and reliability.png into --out.

Data (--data):
  file.bin             ferkit's compact form: 2305-byte records (label byte + 48x48 pixels);
                       one file is one split, so --split is ignored
  fer2013.csv          the original CSV (emotion,pixels,Usage); rows are picked by --split
  folder               <folder>/<class>/*.png|jpg, or <folder>/train/<class> and
                       <folder>/test/<class> (--split Training reads train/, otherwise test/);
                       classes: angry disgust fear happy sad surprise neutral (or anger,
                       disgusted, fearful, happiness, sadness, surprised); images must be
                       48x48 unless --resize is given

Options:
  --data PATH          the data to evaluate on (required)
  --split NAME         Training | PublicTest | PrivateTest (default PublicTest; also
                       train, test, publictest, privatetest)
  --model NAME|PATH    a bundled model name or a path to a .onnx with its .json card
                       (default ${DEFAULT_EXPRESSION_MODEL})
  --tta none|flip      test-time augmentation (default: what the model card was calibrated for);
                       probabilities use the card's temperature for that mode
  --limit N            evaluate only N faces (first N of a .bin/.csv; N evenly spaced files of
                       a folder)
  --resize             folders only: scale images that are not 48x48 instead of failing
  --out DIR            where to write confusion.png and reliability.png (default ./ferkit-eval)
  --threads N          ONNX Runtime intra-op threads (default: all cores)
  --json               print one JSON object instead of the report (charts are still written)
  -h, --help           this text

Metrics match training/ferkit_train/metrics.py: macro-F1 is the mean of the 7 per-class F1;
ECE uses ${DEFAULT_ECE_BINS} equal-width confidence bins (lo, hi]. ms per face times only the classifier:
msPerFace is the mean over single-face calls (batch of 1, after warm-up), msPerFaceBatched the
classifier time of the whole batched pass (${EVAL_BATCH} faces per call) divided by the number of faces.

Examples:
  ferkit eval --data fer2013.csv
  ferkit eval --data fer2013.csv --split PrivateTest --tta none --json > eval.json
  ferkit eval --data ./fer2013-images --model ./my-model.onnx --out ./reports
  ferkit eval --data publictest.bin --limit 500`;

function fmt(x: number, digits = 3): string {
  return x.toFixed(digits);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function table(rows: string[][], alignRight: (col: number) => boolean): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (alignRight(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '))
    .join('\n');
}

const command: Command = {
  name: 'eval',
  summary: 'accuracy, macro-F1, calibration and speed of an expression model on FER2013',
  help,
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(argv, {
      data: { type: 'string' },
      split: { type: 'string' },
      model: { type: 'string' },
      tta: { type: 'string' },
      limit: { type: 'string' },
      resize: { type: 'boolean' },
      out: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (give the data with --data)`);
    if (!values.data) throw new UsageError('--data is required (a .bin, a fer2013.csv or an image folder)');
    let split: Fer2013Split | undefined;
    if (values.split !== undefined) {
      split = parseFer2013Split(values.split);
      if (!split) throw new UsageError(`--split: expected one of ${FER2013_SPLITS.join(', ')}, got "${values.split}"`);
    }
    const tta = parseChoice<TestTimeAugmentation>(values.tta, '--tta', ['none', 'flip']);
    const limit = parseNumber(values.limit, '--limit', 1);
    if (limit !== undefined && !Number.isInteger(limit))
      throw new UsageError(`--limit: expected a whole number, got "${values.limit}"`);
    const threads = parseNumber(values.threads, '--threads', 0, 256);
    const outDir = resolve(values.out ?? 'ferkit-eval');
    const json = values.json === true;
    const log = (line: string) => {
      if (!json) console.log(line);
    };

    const data = await loadFer2013(values.data, { split, limit, resize: values.resize === true });
    for (const w of data.warnings) console.error(`ferkit eval: warning: ${w}`);
    const model = await loadExpressionModel(values.model ?? DEFAULT_EXPRESSION_MODEL);
    const classifier = await ExpressionClassifier.create(nodeRuntime, model.bytes, model.card, model.path, {
      tta,
      threads: threads === undefined ? undefined : Math.round(threads),
      maxBatch: EVAL_BATCH * 2,
    });
    const n = data.images.length;
    const temperature =
      classifier.tta === 'flip' ? model.card.calibration.temperature : model.card.calibration.temperatureNoTta;

    try {
      // Accuracy pass, batched; only classifier calls are timed.
      const probs: Float32Array[] = [];
      const bar = new ProgressBar(n, 'faces');
      let batchedMs = 0;
      for (let start = 0; start < n; start += EVAL_BATCH) {
        const chunk = data.images.slice(start, start + EVAL_BATCH);
        const t0 = performance.now();
        const p = await classifier.probabilities(chunk);
        batchedMs += performance.now() - t0;
        for (const row of p) probs.push(row);
        bar.update(probs.length);
      }
      bar.finish();

      // Latency pass: one face per call, as a live camera would.
      const timed = Math.min(n, TIMING_FACES);
      for (let i = 0; i < Math.min(TIMING_WARMUP, n); i++) await classifier.probabilities([data.images[i]]);
      let singleMs = 0;
      for (let i = 0; i < timed; i++) {
        const t0 = performance.now();
        await classifier.probabilities([data.images[i]]);
        singleMs += performance.now() - t0;
      }
      const msPerFace = singleMs / timed;
      const msPerFaceBatched = batchedMs / n;

      const summary = summarize(probs, data.labels);
      await mkdir(outDir, { recursive: true });
      const files = { confusion: join(outDir, 'confusion.png'), reliability: join(outDir, 'reliability.png') };
      const what = `${model.card.name} on ${basename(data.source)}`;
      await writeFile(files.confusion, confusionMatrixPng(summary.confusion, { title: `Confusion matrix: ${what}` }));
      await writeFile(
        files.reliability,
        reliabilityDiagramPng(summary.reliability, {
          ece: summary.ece,
          title: `Reliability: ${what} (TTA ${classifier.tta}, T=${temperature.toFixed(3)})`,
        }),
      );

      if (json) {
        console.log(
          JSON.stringify({
            model: model.card.name,
            modelPath: model.path,
            data: data.source,
            n: summary.n,
            tta: classifier.tta,
            temperature,
            accuracy: summary.accuracy,
            macroF1: summary.macroF1,
            ece: summary.ece,
            nll: summary.nll,
            perClass: summary.perClass,
            labels: EXPRESSION_LABELS,
            confusion: summary.confusion,
            reliability: summary.reliability,
            msPerFace,
            msPerFaceBatched,
            timing: { singleFaceCalls: timed, batch: EVAL_BATCH, threads: threads ?? 'all cores' },
            files,
            warnings: data.warnings,
          }),
        );
      } else {
        log(`ferkit eval: ${model.card.name} (${model.path})`);
        log(`data:       ${data.source}, ${summary.n} faces`);
        log(`TTA:        ${classifier.tta}, temperature ${temperature.toFixed(3)}`);
        log('');
        log(`accuracy    ${fmt(summary.accuracy, 4)}  (${pct(summary.accuracy)})`);
        log(`macro-F1    ${fmt(summary.macroF1, 4)}`);
        log(`ECE         ${fmt(summary.ece, 4)}  (${DEFAULT_ECE_BINS} bins)`);
        log(`NLL         ${fmt(summary.nll, 4)}`);
        log(
          `ms per face ${msPerFace.toFixed(2)} single-face calls (${timed} timed), ${msPerFaceBatched.toFixed(2)} batched by ${EVAL_BATCH}`,
        );
        log('');
        const perRows = [['class', 'precision', 'recall', 'F1', 'support']];
        for (const name of EXPRESSION_LABELS) {
          const m = summary.perClass[name];
          perRows.push([name, fmt(m.precision), fmt(m.recall), fmt(m.f1), String(m.support)]);
        }
        log(table(perRows, (c) => c > 0));
        log('');
        log('confusion (rows = true, columns = predicted)');
        const short = EXPRESSION_LABELS.map((l) => l.slice(0, 8));
        const confRows = [['', ...short, 'total']];
        summary.confusion.forEach((row, i) => {
          confRows.push([EXPRESSION_LABELS[i], ...row.map(String), String(row.reduce((s, v) => s + v, 0))]);
        });
        log(table(confRows, (c) => c > 0));
        log('');
        log(`wrote ${files.confusion}`);
        log(`wrote ${files.reliability}`);
      }
      return 0;
    } finally {
      await classifier.dispose();
    }
  },
};

export default command;
