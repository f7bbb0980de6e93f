#!/usr/bin/env node
/**
 * ferkit's dlib shape predictor beside dlib's C++ on the same faces, in one run (see
 * src/eval/dlib-shape-bench.ts). Needs `npx tsc -p tsconfig.json` first, g++, libdlib-dev, libdlib-data.
 *   node scripts/bench-dlib-shape.mjs [--repeats 50] [--rounds 2] [--json]
 */
import { parseArgs } from 'node:util';
import { benchDlibShape, formatDlibShapeBench } from '../dist/eval/dlib-shape-bench.js';

const { values } = parseArgs({
  options: { repeats: { type: 'string' }, rounds: { type: 'string' }, json: { type: 'boolean' } },
});
const result = await benchDlibShape({
  repeats: values.repeats ? Number(values.repeats) : undefined,
  rounds: values.rounds ? Number(values.rounds) : undefined,
  log: (m) => process.stderr.write(`${m}\n`),
});
process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatDlibShapeBench(result));
