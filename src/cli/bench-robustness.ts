/** `ferkit bench robustness`: an expression model on FER2013 crops under corruptions (src/bench/robustness.ts); report, CSV, JSON and charts. */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CORRUPTIONS, corruptionByName } from '../bench/corruptions.js';
import { writeRequestedSection } from '../bench/report.js';
import type { RobustnessResult } from '../bench/robustness.js';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { DEFAULT_EXPRESSION_MODEL, loadExpressionModel } from '../node/expression-model.js';
import { nodeRuntime } from '../node/runtime.js';
import { EXPRESSION_LABELS } from '../types.js';
import { imageLinks, loadData, parseInteger, parseSeverities, parseSuiteArgs } from './bench-args.js';
import { parseChoice, UsageError } from './command.js';
import { ProgressBar } from './progress.js';

export async function robustness(argv: string[]): Promise<number> {
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
