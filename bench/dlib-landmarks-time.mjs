#!/usr/bin/env node
/**
 * Per-face time of dlib's 68-point predictor as the pipeline calls it (createDlibLandmarks' detect on
 * a photo's SSD boxes, mapped to dlib's convention), against the former way: the whole photo made
 * grey (dlibGray) on every call, then the predictor on each box. Needs `npx tsc -p tsconfig.json`.
 *
 *   node bench/dlib-landmarks-time.mjs [--data DIR] [--limit N] [--repeats R]
 *
 * On the first N AFW photos (default 40) with faces: per photo, R alternating timings of each way
 * (after one warm-up each); per photo the median / faces; reported: the median over photos, and the
 * grey conversion alone. Both ways give the same points (checked here too).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultAfwDir, loadAfwAnnotations } from '../dist/eval/afw.js';
import { DLIB_BOX_MAPPINGS, mapBox } from '../dist/landmarks/dlib-box-mapping.js';
import { boxToDlibRect, createDlibShapePredictor, dlibGray } from '../dist/landmarks/dlib-shape-predictor.js';
import { decodeImage } from '../dist/node/decode.js';
import { createDlibLandmarks, loadDlibShapePredictor } from '../dist/node/dlib-shape.js';
import { nodeRuntime } from '../dist/node/runtime.js';
import { createFaceDetector } from '../dist/node/stages.js';

const { values } = parseArgs({
  options: { data: { type: 'string' }, limit: { type: 'string' }, repeats: { type: 'string' } },
});
const limit = Number(values.limit ?? 40);
const repeats = Number(values.repeats ?? 5);
const dir = values.data ?? defaultAfwDir();

const model = await loadDlibShapePredictor();
const landmarks = await createDlibLandmarks({ model, boxes: 'cnn' });
const predictor = createDlibShapePredictor(model);
/** The former detect(): grey for the whole photo, then each mapped box. */
const wholeImageGrey = (image, boxes) => {
  const gray = dlibGray(image);
  return boxes.map((b) => Array.from(predictor.predict(gray, boxToDlibRect(mapBox(b, DLIB_BOX_MAPPINGS.cnn)))));
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

const detector = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
const before = [];
const after = [];
const grey = [];
let faces = 0;
let pixels = 0;
try {
  for (const t of await loadAfwAnnotations(dir)) {
    if (before.length >= limit) break;
    const image = await decodeImage(join(dir, t.file));
    const boxes = (await detector.detect(image)).map((d) => d.box);
    if (boxes.length === 0) continue;
    const ours = (await landmarks.detect(image, boxes)).map((pts) => pts.flat());
    if (JSON.stringify(ours) !== JSON.stringify(wholeImageGrey(image, boxes))) throw new Error(`${t.file}: points differ`);
    const b = [];
    const a = [];
    const g = [];
    for (let k = 0; k < repeats; k++) {
      b.push(time(() => wholeImageGrey(image, boxes)));
      a.push(time(() => landmarks.detect(image, boxes))); // synchronous work; the promise is already settled
      g.push(time(() => dlibGray(image)));
    }
    before.push(median(b) / boxes.length);
    after.push(median(a) / boxes.length);
    grey.push(median(g));
    faces += boxes.length;
    pixels += image.width * image.height;
  }
} finally {
  await detector.dispose();
}
const f = (x) => x.toFixed(3);
process.stdout.write(
  [
    `dlib predictor in the pipeline, ${before.length} AFW photos (${(pixels / before.length / 1e6).toFixed(2)} Mpx on average), ${faces} SSD faces, median of ${repeats} runs per photo:`,
    '',
    '| detect() | ms / face (median over photos) |',
    '|---|---:|',
    `| whole photo made grey, then each box (before) | ${f(median(before))} |`,
    `| only the feature pixels made grey (predictRgb, after) | ${f(median(after))} |`,
    '',
    `dlibGray alone: ${f(median(grey))} ms per photo (median).`,
    '',
  ].join('\n'),
);
