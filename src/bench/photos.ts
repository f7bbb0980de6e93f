/** Benchmark inputs: photos decoded and resized once, so every engine sees identical pixels. */
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../types.js';

export function demoPhotoPaths(): string[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
  return [1, 2, 3, 4, 5, 6].map((i) => join(dir, `sample${i}.jpg`));
}

export interface BenchPhoto {
  name: string;
  image: RgbImage;
}

/** Decode (EXIF-rotated) and resize so the longer side is `longSide` pixels (0 = keep). */
export async function loadBenchPhotos(paths: readonly string[], longSide: number): Promise<BenchPhoto[]> {
  return Promise.all(
    paths.map(async (p) => {
      let img = sharp(p).rotate();
      if (longSide > 0) img = img.resize({ width: longSide, height: longSide, fit: 'inside' });
      const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { name: basename(p), image: { width: info.width, height: info.height, data: new Uint8Array(data) } };
    }),
  );
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
