#!/usr/bin/env node
/**
 * Fits the ferkit-detector → dlib-box mappings (src/landmarks/dlib-box-mapping.ts) on AFW and prints
 * them with the NME of dlib's 68-point predictor on dlib's own HOG boxes and on each detector's boxes,
 * unmapped and mapped. Needs `npx tsc -p tsconfig.json` first, g++, libdlib-dev and libdlib-data.
 *   node scripts/fit-dlib-box-mapping.mjs [--data DIR] [--limit N] [--json]
 * DIR defaults to $FERKIT_DATA/afw or ../shared/data/afw.
 */
import { parseArgs } from 'node:util';
import { defaultAfwDir } from '../dist/eval/afw.js';
import { formatDlibAfw, runDlibAfw } from '../dist/eval/dlib-box-fit.js';

const { values } = parseArgs({
  options: { data: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
});
const report = await runDlibAfw({
  dir: values.data ?? defaultAfwDir(),
  limit: values.limit ? Number(values.limit) : undefined,
  log: (m) => process.stderr.write(`${m}\n`),
});
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDlibAfw(report));
