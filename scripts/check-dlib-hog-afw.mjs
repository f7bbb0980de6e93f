#!/usr/bin/env node
// Every AFW photo: ferkit's dlib HOG detector (upsample 1) vs dlib's C++ (test/dlib-ref/hog.cpp) on the same
// decoded pixels. Needs `npm run build` and libdlib-dev. Usage: node scripts/check-dlib-hog-afw.mjs [afw dir]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '../dist/node/decode.js';
import { createDlibHogDetector } from '../dist/node/dlib-hog.js';
import { buildDlibHogReference, runDlibHogReference } from '../dist/node/dlib-hog-reference.js';
const dir = process.argv[2] ?? '../shared/data/afw';
const files = Object.keys(JSON.parse(readFileSync(join(dir, 'landmarks68.json'), 'utf8')));
const bin = await buildDlibHogReference();
const det = await createDlibHogDetector();
let same = 0, dets = 0, maxDiff = 0;
for (const f of files) {
  const img = await decodeImage(join(dir, f));
  const ours = det.detectRaw(img, 1, 0);
  const theirs = (await runDlibHogReference(bin, img, 1)).detections;
  const ok = JSON.stringify(ours.map((d) => d.rect)) === JSON.stringify(theirs.map((d) => d.rect));
  if (ok) { same++; ours.forEach((d, i) => { maxDiff = Math.max(maxDiff, Math.abs(d.confidence - theirs[i].confidence)); }); }
  else console.log('DIFF', f, JSON.stringify(ours.map((d) => d.rect)), JSON.stringify(theirs.map((d) => d.rect)));
  dets += theirs.length;
}
console.log(`${same}/${files.length} photos identical, ${dets} dlib detections, max |confidence diff| ${maxDiff}`);
process.exitCode = same === files.length ? 0 : 1;
