/**
 * Small image variants of the demo photos with distinct bytes, for the queue tests and
 * bench/queue.mjs: each a different crop of a demo photo, about 200 px wide (the SSD's cost does
 * not depend on the image size, and faces stay above the 24-px minimum), re-encoded at a different
 * JPEG quality (every 5th as PNG).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

export const DEMO_PHOTOS = [1, 2, 3, 4, 5, 6].map((i) =>
  resolve('node_modules/@vladmandic/face-api/demo', `sample${i}.jpg`),
);

/**
 * Writes `n` variants into `dir` and returns their absolute paths.
 * @param {string} dir
 * @param {number} n
 * @param {number} [first] index of the first variant (another range gives other images)
 * @returns {Promise<string[]>}
 */
export async function imageVariants(dir, n, first = 0) {
  mkdirSync(dir, { recursive: true });
  const bases = await Promise.all(
    DEMO_PHOTOS.map((p) => sharp(p).resize({ width: 640 }).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  const files = [];
  const seen = new Set();
  for (let i = first; i < first + n; i++) {
    const { data, info } = bases[i % bases.length];
    const k = Math.floor(i / bases.length);
    const w = 300 + (k % 9) * 20;
    const h = Math.round(w * 0.75);
    const left = (k * 7) % (info.width - w);
    const top = (k * 5) % (info.height - h);
    let img = sharp(data, { raw: info })
      .extract({ left, top, width: w, height: h })
      .resize({ width: 200 + (k % 5) * 8 });
    const png = i % 5 === 4;
    img = png ? img.png() : img.jpeg({ quality: 60 + (k % 35) });
    const bytes = await img.toBuffer();
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(sha)) throw new Error(`variant ${i} repeats an earlier one's bytes`);
    seen.add(sha);
    const file = join(resolve(dir), `img-${String(i).padStart(5, '0')}.${png ? 'png' : 'jpg'}`);
    writeFileSync(file, bytes);
    files.push(file);
  }
  return files;
}
