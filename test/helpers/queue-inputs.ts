/** Inputs for the queue tests, synthesised from the demo photos: small image variants, corrupt files and short videos. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
// @ts-expect-error: a plain .mjs shared with bench/queue.mjs
import { DEMO_PHOTOS, imageVariants as variants } from '../../bench/queue-inputs.mjs';

const PHOTOS: string[] = DEMO_PHOTOS;

/** `n` small image variants with distinct bytes (see bench/queue-inputs.mjs); absolute paths. */
export const imageVariants: (dir: string, n: number, first?: number) => Promise<string[]> = variants;

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
