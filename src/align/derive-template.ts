/**
 * Derive the FER2013 alignment template from data: upscale FER2013 Training faces 4×, run ferkit's
 * 68-point model on each with the whole crop as the face box, map the points back to the 48×48
 * frame and average. The result is where each landmark sits, on average, in the framing the
 * expression models were trained on; alignFace() maps every in-the-wild face onto it.
 *
 * The whole crop is the box because FER2013 faces fill their 48×48 crops edge to edge: the SSD
 * detector, trained on faces with context, finds almost none of them (1 in 100 in a trial), while
 * the landmark model only needs a box around the face.
 *
 *   node dist/align/derive-template.js ../shared/data/fer2013/train.bin [count]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resizeBilinear } from '../image/ops.js';
import { nodeRuntime } from '../node/runtime.js';
import { createLandmarks } from '../node/stages.js';
import type { Box, Point, RgbImage } from '../types.js';

const SIDE = 48;
const UPSCALE = 4;

async function main(): Promise<void> {
  const [binPath, countArg] = process.argv.slice(2);
  if (!binPath) throw new Error('usage: derive-template.js <train.bin> [count]');
  const bin = readFileSync(binPath);
  const records = bin.length / 2305;
  const count = Math.min(Number(countArg ?? 4000), records);
  const landmarks = await createLandmarks(nodeRuntime, {});
  const S = SIDE * UPSCALE;
  const box: Box = { x: 0, y: 0, width: S, height: S };
  const sum: Point[] = Array.from({ length: 68 }, () => [0, 0]);
  for (let k = 0; k < count; k++) {
    const r = Math.floor((k * records) / count);
    const gray = bin.subarray(r * 2305 + 1, r * 2305 + 2305);
    const big = resizeBilinear({ width: SIDE, height: SIDE, data: gray }, S, S, 1);
    const rgb = new Uint8Array(S * S * 3);
    for (let i = 0; i < big.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = big[i];
    const image: RgbImage = { width: S, height: S, data: rgb };
    const [pts] = await landmarks.detect(image, [box]);
    pts.forEach(([x, y], i) => {
      sum[i][0] += (x + 0.5) / UPSCALE - 0.5;
      sum[i][1] += (y + 0.5) / UPSCALE - 0.5;
    });
  }
  await landmarks.dispose();
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const template = {
    size: SIDE,
    points: sum.map(([x, y]) => [round(x / count), round(y / count)]),
    source: `mean of ferkit's 68 points (FaceLandmark68Net, box = whole crop) on ${count} evenly spaced FER2013 Training faces upscaled ${UPSCALE}x, by src/align/derive-template.ts`,
  };
  const out = fileURLToPath(new URL('../../src/align/fer-template.json', import.meta.url));
  writeFileSync(out, JSON.stringify(template) + '\n');
  console.log(`averaged ${count} faces; wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
