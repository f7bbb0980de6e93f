#!/usr/bin/env node
// Runs ferkit's default face detector (the SSD, as createAnalyzer() uses it) on every photo of a
// landmarks68.json data set and writes, per annotated face, the detector box that best overlaps the
// face's 68 ground-truth points (IoU with their bounding box), or null when none does. The landmark
// trainer learns ferkit's box convention from these boxes.
//
//   node training/tools/detector-boxes.mjs ../shared/data/helen-train training/data/helen-train.boxes.json
//
// Needs `npm run build` (it imports dist/).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage, nodeRuntime } from '../../dist/node/index.js';
import { createFaceDetector } from '../../dist/node/stages.js';

const [root, out] = process.argv.slice(2);
if (!root || !out) {
  console.error('usage: detector-boxes.mjs <dataset folder with landmarks68.json> <out.json>');
  process.exit(2);
}
const annotations = JSON.parse(await readFile(join(root, 'landmarks68.json'), 'utf8'));
const detector = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
const iou = (a, b) => {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const i = w * h;
  return i / (a.width * a.height + b.width * b.height - i);
};
const result = {};
let found = 0;
let total = 0;
const files = Object.keys(annotations);
for (const [n, file] of files.entries()) {
  const image = await decodeImage(join(root, file));
  const detections = await detector.detect(image, {});
  result[file] = annotations[file].faces.map((points) => {
    total++;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const gt = { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
    let best = null;
    let bestIou = 0.3;
    for (const d of detections) {
      const v = iou(d.box, gt);
      if (v > bestIou) [best, bestIou] = [{ ...d.box, score: d.score }, v];
    }
    if (best) found++;
    return best;
  });
  if ((n + 1) % 100 === 0) process.stderr.write(`${n + 1}/${files.length} photos, ${found}/${total} faces found\n`);
}
await detector.dispose();
await writeFile(out, JSON.stringify({ detector: 'ssd-mobilenetv1 (ferkit default)', root, boxes: result }));
console.error(`${found}/${total} faces found; wrote ${out}`);
