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
import { iou, pointsBox } from '../../dist/image/ops.js';
import { createFaceDetector } from '../../dist/node/stages.js';

const [root, out] = process.argv.slice(2);
if (!root || !out) {
  console.error('usage: detector-boxes.mjs <dataset folder with landmarks68.json> <out.json>');
  process.exit(2);
}
const annotations = JSON.parse(await readFile(join(root, 'landmarks68.json'), 'utf8'));
const detector = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
const result = {};
let found = 0;
let total = 0;
const files = Object.keys(annotations);
for (const [n, file] of files.entries()) {
  const image = await decodeImage(join(root, file));
  const detections = await detector.detect(image, {});
  result[file] = annotations[file].faces.map((points) => {
    total++;
    const gt = pointsBox(points);
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
