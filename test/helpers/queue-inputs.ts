/** Inputs for the queue tests, synthesised from the demo photos: small image variants and short videos. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';

const DEMO = resolve('node_modules/@vladmandic/face-api/demo');
const PHOTOS = [1, 2, 3, 4, 5, 6].map((i) => join(DEMO, `sample${i}.jpg`));

/**
 * `n` small images (about 200 px wide: the SSD's cost does not depend on the image size, and faces
 * stay above the 24-px minimum) with distinct bytes: each a different crop of a demo photo,
 * re-encoded at a different JPEG quality (every 5th as PNG). Returns their absolute paths.
 */
export async function imageVariants(dir: string, n: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const bases = await Promise.all(
    PHOTOS.map((p) => sharp(p).resize({ width: 640 }).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  const files: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const { data, info } = bases[i % bases.length];
    const k = Math.floor(i / bases.length);
    const w = 300 + (k % 9) * 20;
    const h = Math.round(w * 0.75);
    const left = (k * 7) % (info.width - w);
    const top = (k * 5) % (info.height - h);
    let img = sharp(data, { raw: info }).extract({ left, top, width: w, height: h }).resize({ width: 200 + (k % 5) * 8 });
    const png = i % 5 === 4;
    img = png ? img.png() : img.jpeg({ quality: 60 + (k % 35) });
    const bytes = await img.toBuffer();
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(sha)) throw new Error(`variant ${i} repeats an earlier one's bytes`);
    seen.add(sha);
    const file = join(dir, `img-${String(i).padStart(4, '0')}.${png ? 'png' : 'jpg'}`);
    writeFileSync(file, bytes);
    files.push(file);
  }
  return files;
}

/** Inputs no retry can fix, with the FerkitError code a worker must record for each. */
export function corruptImages(dir: string): { file: string; code: string }[] {
  mkdirSync(dir, { recursive: true });
  const jpeg = readFileSync(PHOTOS[0]);
  const cases = [
    { name: 'truncated.jpg', bytes: jpeg.subarray(0, 600), code: 'E_DECODE' },
    { name: 'empty.jpg', bytes: Buffer.alloc(0), code: 'E_EMPTY' },
    { name: 'not-an-image.png', bytes: Buffer.from('this is text, not a PNG\n'), code: 'E_DECODE' },
  ];
  return cases.map((c) => {
    const file = join(dir, c.name);
    writeFileSync(file, c.bytes);
    return { file, code: c.code };
  });
}

/** A short H.264 clip panning over a demo photo (320×240, `seconds` at 10 fps, a keyframe every 12). */
export function pannedVideo(file: string, photo: number, seconds: number): string {
  mkdirSync(dirname(file), { recursive: true });
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    PHOTOS[photo - 1],
    '-vf',
    `scale=480:-2,crop=320:240:'80*t/${seconds}':'40*t/${seconds}',format=yuv420p`,
    '-t',
    String(seconds),
    '-r',
    '10',
    '-c:v',
    'libx264',
    '-g',
    '12',
    file,
  ]);
  return file;
}
