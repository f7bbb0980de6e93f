import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FerkitError } from '../errors.js';
import { createAnalyzer } from '../node/analyzer.js';
import { expandInputs } from '../node/inputs.js';
import { renderAnnotated } from '../node/render.js';
import { type OutputFormat, ResultWriter, toOutput } from '../pipeline/records.js';
import { ANALYSIS_ARGS, analysisHelp, parseAnalysisOptions } from './analysis-options.js';
import { type Command, errorMessage, parseChoice, parseCommandArgs, UsageError } from './command.js';
import { ProgressBar } from './progress.js';

const help = `Usage: ferkit analyze <files | folders | globs…> [options]

Finds every face, its 68 key points and its expression probabilities in each image.
Results go to stdout (one JSON array by default); per-file errors are reported in place
and never stop the batch; the exit code is 1 when any file failed.

Options:
  --format json|jsonl|csv   output format (default json: one object per input
                            { file, width, height, faces: [...] } or { file, error })
  --out DIR                 also write results.<format> (and annotated images) into DIR
  --annotate                write annotated images (box, 68 points, probability bars)
                            into --out (default ./ferkit-annotated)
  --jpeg                    annotated images as JPEG instead of PNG
${analysisHelp(28)}
  --timings                 include per-stage milliseconds in each result
  -h, --help                this help

Examples:
  ferkit analyze photo.jpg
  ferkit analyze photos/ --format csv > faces.csv
  ferkit analyze 'shots/**/*.png' --annotate --out annotated/`;

const command: Command = {
  name: 'analyze',
  summary: 'faces, 68 key points and expressions in images (JSON/CSV, annotated images)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      format: { type: 'string' },
      out: { type: 'string' },
      annotate: { type: 'boolean' },
      jpeg: { type: 'boolean' },
      ...ANALYSIS_ARGS,
      timings: { type: 'boolean' },
    });
    if (positionals.length === 0) throw new UsageError('no input files given');
    const format: OutputFormat = parseChoice(values.format, '--format', ['json', 'jsonl', 'csv'] as const) ?? 'json';
    const annotateDir = values.annotate ? (values.out ?? 'ferkit-annotated') : undefined;
    const analyzer = await createAnalyzer(parseAnalysisOptions(values));
    try {
      const files = await expandInputs(positionals);
      if (files.length === 0) throw new FerkitError('E_NOT_FOUND', `no images found in ${positionals.join(' ')}`);
      if (values.out) await mkdir(values.out, { recursive: true });
      if (annotateDir) await mkdir(annotateDir, { recursive: true });
      const fileOut = values.out ? createWriteStream(join(values.out, `results.${format}`)) : null;
      const writer = new ResultWriter(format, (s) => {
        process.stdout.write(s);
        fileOut?.write(s);
      });
      const progress = new ProgressBar(files.length, 'images');
      const usedNames = new Set<string>();
      let failed = 0;
      let faces = 0;
      for (const [i, file] of files.entries()) {
        try {
          const t = performance.now();
          const image = await analyzer.decode(file);
          const result = await analyzer.analyzeImage(image, performance.now() - t);
          faces += result.faces.length;
          writer.add(toOutput(file, result, values.timings === true));
          if (annotateDir) {
            const ext = values.jpeg ? '.jpg' : '.png';
            let name = basename(file, extname(file)) + '.annotated' + ext;
            for (let k = 2; usedNames.has(name); k++) name = `${basename(file, extname(file))}-${k}.annotated${ext}`;
            usedNames.add(name);
            await writeFile(
              join(annotateDir, name),
              await renderAnnotated(image, result.faces, { format: values.jpeg ? 'jpeg' : 'png' }),
            );
          }
        } catch (e) {
          failed++;
          writer.add({ file, error: errorMessage(e), ...(e instanceof FerkitError ? { code: e.code } : {}) });
        }
        progress.update(i + 1, `${faces} faces${failed ? `, ${failed} failed` : ''}`);
      }
      writer.end();
      progress.finish();
      await new Promise<void>((r) => (fileOut ? fileOut.end(r) : r()));
      if (failed) console.error(`ferkit analyze: ${failed} of ${files.length} files failed`);
      return failed ? 1 : 0;
    } finally {
      await analyzer.dispose();
    }
  },
};

export default command;
