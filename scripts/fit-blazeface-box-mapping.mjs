#!/usr/bin/env node
/**
 * Fits BLAZEFACE_TO_SSD_BOX (src/landmarks/box-convention.ts): the box-relative map from BlazeFace's
 * box of a face to ferkit's default SSD box of the same face, on HELEN-train (never AFW, which the
 * benchmarks report on). Per face: both detectors' best box by IoU with the bounding box of its 68
 * annotated points (IoU ≥ 0.3 each); the mapping is the per-parameter median. Needs
 * `npx tsc -p tsconfig.json` first.
 *   node scripts/fit-blazeface-box-mapping.mjs [--data DIR] [--limit N]
 * DIR defaults to $FERKIT_DATA/helen-train or ../shared/data/helen-train.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { iou } from '../dist/image/ops.js';
import { decodeImage } from '../dist/node/decode.js';
import { nodeRuntime } from '../dist/node/runtime.js';
import { createFaceDetector } from '../dist/node/stages.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, limit: { type: 'string' } } });
const dir = resolve(
  values.data ?? (process.env.FERKIT_DATA ? join(process.env.FERKIT_DATA, 'helen-train') : '../shared/data/helen-train'),
);
const annotations = JSON.parse(await readFile(join(dir, 'landmarks68.json'), 'utf8'));
const files = Object.keys(annotations).slice(0, values.limit ? Number(values.limit) : undefined);
const [ssd, blaze] = await Promise.all(['cnn', 'blazeface'].map((k) => createFaceDetector(k, nodeRuntime, { threads: 1 })));
const best = (detections, gt) => {
  let top = null;
  for (const d of detections) if (!top || iou(d.box, gt) > iou(top.box, gt)) top = d;
  return top && iou(top.box, gt) >= 0.3 ? top.box : null;
};
const params = { ox: [], oy: [], sw: [], sh: [] };
let both = 0;
for (const [n, file] of files.entries()) {
  const image = await decodeImage(join(dir, file));
  const pts = annotations[file].faces[0];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const gt = { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
  const [s, b] = [best(await ssd.detect(image), gt), best(await blaze.detect(image), gt)];
  if (s && b) {
    both++;
    params.ox.push((s.x + s.width / 2 - (b.x + b.width / 2)) / b.width);
    params.oy.push((s.y + s.height / 2 - (b.y + b.height / 2)) / b.height);
    params.sw.push(s.width / b.width);
    params.sh.push(s.height / b.height);
  }
  if ((n + 1) % 200 === 0) process.stderr.write(`${n + 1}/${files.length}\n`);
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 1e4) / 1e4;
console.log(`${dir}: ${files.length} faces, ${both} found by both detectors`);
console.log(`BLAZEFACE_TO_SSD_BOX = { ox: ${round(median(params.ox))}, oy: ${round(median(params.oy))}, sw: ${round(median(params.sw))}, sh: ${round(median(params.sh))} }`);
await Promise.all([ssd.dispose(), blaze.dispose()]);
