/**
 * dlib's own output, from the C++ reference program test/dlib-ref/shape.cpp built against Debian's
 * libdlib-dev (buildDlibProgram: cached under .cache/dlib/). Used by the shape-predictor tests, the
 * side-by-side speed benchmark and the AFW box-mapping fit. Pixels go to the program raw on stdin,
 * so dlib sees exactly the RgbImage ferkit sees (no second decoder in between).
 * Development tooling: needs a source checkout (the .cpp lives in test/) and g++ + libdlib-dev.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerkitError } from '../errors.js';
import type { DlibRect } from '../landmarks/dlib-shape-predictor.js';
import { buildDlibProgram } from '../node/dlib-native.js';
import { DEFAULT_DLIB_SHAPE_PREDICTOR_PATH } from '../node/dlib-shape.js';
import { packageRoot } from '../node/paths.js';
import type { RgbImage } from '../types.js';

export const DLIB_SHAPE_REFERENCE_SOURCE = join(packageRoot(), 'test', 'dlib-ref', 'shape.cpp');

/** Builds (once; cached) the reference program and returns its path. */
export async function buildDlibShapeReference(): Promise<string> {
  const source = await readFile(DLIB_SHAPE_REFERENCE_SOURCE, 'utf8');
  return buildDlibProgram({ name: 'dlib-shape-ref', source });
}

export interface ReferenceInput {
  image: RgbImage;
  rects: readonly DlibRect[];
}

/** Runs the program, streaming each image (header, pixels, rectangles) to its stdin; returns stdout. */
async function run(binary: string, args: string[], inputs: readonly ReferenceInput[]): Promise<string> {
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const write = (chunk: Uint8Array | string) =>
    new Promise<void>((resolve, reject) => child.stdin.write(chunk, (e) => (e ? reject(e) : resolve())));
  try {
    for (const { image, rects } of inputs) {
      await write(`${image.width} ${image.height} ${rects.length}\n`);
      await write(image.data);
      await write(rects.map((r) => `${r.left} ${r.top} ${r.right} ${r.bottom}\n`).join(''));
    }
  } finally {
    child.stdin.end();
  }
  const code = await exited;
  if (code !== 0) {
    throw new FerkitError('E_MODEL', `${binary} ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString()}`);
  }
  return Buffer.concat(out).toString();
}

/** dlib's 68 integer points (x0, y0, x1, …) for every rectangle of every input, in order. */
export async function dlibReferencePoints(
  binary: string,
  inputs: readonly ReferenceInput[],
  modelPath = DEFAULT_DLIB_SHAPE_PREDICTOR_PATH,
): Promise<number[][]> {
  const text = await run(binary, ['points', modelPath], inputs);
  return text
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(' ').map(Number));
}

/** dlib's load time (deserialize) and, per rectangle, the median µs of `repeats` predictions. */
export async function dlibReferenceBench(
  binary: string,
  inputs: readonly ReferenceInput[],
  repeats: number,
  modelPath = DEFAULT_DLIB_SHAPE_PREDICTOR_PATH,
): Promise<{ loadMs: number; medianUs: number[] }> {
  const text = await run(binary, ['bench', modelPath, String(repeats)], inputs);
  let loadMs = Number.NaN;
  const medianUs: number[] = [];
  for (const line of text.trim().split('\n')) {
    const [key, value] = line.split(' ');
    if (key === 'load_ms') loadMs = Number(value);
    else if (key === 'median_us') medianUs.push(Number(value));
  }
  return { loadMs, medianUs };
}

/** dlib's get_frontal_face_detector() rectangles per image, upsampling `upsample` times as dlib's Python API does. */
export async function dlibHogRects(binary: string, images: readonly RgbImage[], upsample = 1): Promise<DlibRect[][]> {
  const text = await run(
    binary,
    ['hog', String(upsample)],
    images.map((image) => ({ image, rects: [] })),
  );
  const lines = text.trim().split('\n');
  const result: DlibRect[][] = [];
  let i = 0;
  while (i < lines.length && result.length < images.length) {
    const n = Number(lines[i++]);
    const rects: DlibRect[] = [];
    for (let k = 0; k < n; k++) {
      const [left, top, right, bottom] = lines[i++].split(' ').map(Number);
      rects.push({ left, top, right, bottom });
    }
    result.push(rects);
  }
  return result;
}
