import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LANDMARK_MODEL, LANDMARK_MODEL_TASK } from '../landmarks/default-model.js';
import { DEFAULT_EXPRESSION_MODEL } from '../node/expression-model.js';
import { bundledModelDir, modelCacheDir } from '../node/paths.js';
import { DEFAULT_CASCADE_PATH } from '../node/stages.js';
import { type Command, parseCommandArgs } from './command.js';

const help = `Usage: ferkit models [--json]

Lists the models ferkit can use and their cards:
  expression models trained by ferkit (bundled in models/, with PublicTest accuracy),
  ferkit's 68-point landmark model (bundled in models/, with its HELEN holdout error),
  the face detector and 68-point landmark models converted from @vladmandic/face-api
  (built by 'npm run models' or on first use, cached in .cache/models or $FERKIT_MODEL_CACHE),
  and the Haar cascade (Debian package opencv-data).

Options:
  --json      print the cards as one JSON object
  -h, --help  this help`;

async function readCards(dir: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.endsWith('.parity.json')).sort();
  const cards: Record<string, unknown>[] = [];
  for (const n of names) {
    try {
      cards.push({ ...JSON.parse(await readFile(join(dir, n), 'utf8')), cardPath: join(dir, n) });
    } catch {
      cards.push({ name: n, cardPath: join(dir, n), error: 'unreadable card' });
    }
  }
  return cards;
}

const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(2)}%` : '–');

const command: Command = {
  name: 'models',
  summary: 'list installed models and their cards',
  help,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } });
    const bundled = await readCards(bundledModelDir());
    const expression = bundled.filter((c) => c.task === 'expression' || c.error);
    const landmarks = bundled.filter((c) => c.task === LANDMARK_MODEL_TASK);
    const converted = await readCards(modelCacheDir());
    const cascade = { path: DEFAULT_CASCADE_PATH, installed: existsSync(DEFAULT_CASCADE_PATH) };
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            default: DEFAULT_EXPRESSION_MODEL,
            defaultLandmarks: DEFAULT_LANDMARK_MODEL,
            expression,
            landmarks,
            converted,
            cascade,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    console.log(`Expression models (${bundledModelDir()}):`);
    for (const c of expression) {
      const m = (c.metrics ?? {}) as Record<string, unknown>;
      const star = c.name === DEFAULT_EXPRESSION_MODEL ? ' (default)' : '';
      // an ensemble card (export.py with several checkpoints) lists its members
      const members = (c.architecture as { members?: unknown[] } | undefined)?.members;
      const family = `${c.family ?? ''}${Array.isArray(members) ? `×${members.length}` : ''}`;
      console.log(
        `  ${String(c.name).padEnd(19)} ${family.padEnd(9)} ${String(c.precision ?? 'fp32').padEnd(5)}` +
          ` ${((Number(c.parameters) || 0) / 1e6).toFixed(2)} M params  ` +
          `${((Number(c.flops) || 0) / 1e6).toFixed(0)} MFLOPs  PublicTest ${pct(m.accuracy)} (TTA ${pct(m.accuracyTta)})  ECE ${Number(m.ece ?? NaN).toFixed(3)}${star}`,
      );
    }
    console.log(`\nLandmark models (${bundledModelDir()}):`);
    for (const c of landmarks) {
      const h = (c.training as { holdout?: { holdout_nme_mean?: number } } | undefined)?.holdout?.holdout_nme_mean;
      const params = (c.architecture as { parameters?: number } | undefined)?.parameters ?? 0;
      const star = c.name === DEFAULT_LANDMARK_MODEL ? ' (default)' : '';
      console.log(
        `  ${String(c.name).padEnd(19)} 68 points  ${(params / 1e6).toFixed(2)} M params  HELEN holdout NME ${typeof h === 'number' ? h.toFixed(4) : '–'}${star}`,
      );
    }
    console.log(`\nConverted from @vladmandic/face-api (${modelCacheDir()}):`);
    if (!converted.length) console.log("  none yet: run 'npm run models' (or they are converted on first use)");
    for (const c of converted) console.log(`  ${String(c.name ?? c.cardPath).padEnd(24)} ${c.task ?? ''}`);
    console.log(`\nHaar cascade: ${cascade.path} ${cascade.installed ? '' : '(missing: apt-get install opencv-data)'}`);
    return 0;
  },
};

export default command;
