/**
 * Node: dlib's own frontal face detector, as the reference program test/dlib-ref/hog.cpp runs it
 * (built against Debian's libdlib-dev with buildDlibProgram), for the parity tests and the
 * side-by-side speed bench. Not part of ferkit's detection path.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FerkitError } from '../errors.js';
import type { RgbImage } from '../types.js';
import { buildDlibProgram } from './dlib-native.js';
import { packageRoot } from './paths.js';

const execFileAsync = promisify(execFile);

/** One line of the reference's output. */
export interface DlibReferenceDetection {
  rect: [number, number, number, number];
  confidence: number;
  weightIndex: number;
}

export interface DlibReferenceResult {
  detections: DlibReferenceDetection[];
  /** Median wall time of the detector over `repeats` runs (only when repeats > 1). */
  medianMs?: number;
}

/** Build (once; cached under .cache/dlib/) the reference program from test/dlib-ref/hog.cpp. */
export async function buildDlibHogReference(): Promise<string> {
  const path = join(packageRoot(), 'test', 'dlib-ref', 'hog.cpp');
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (e) {
    throw new FerkitError('E_MODEL', `${path}: dlib's reference program is only in a source checkout of ferkit`, {
      cause: e,
    });
  }
  return buildDlibProgram({ name: 'dlib-hog-ref', source });
}

/** Run dlib's detector on `image` with `upsample` (as Python's `detector.run(img, upsample, 0)`), `repeats` times. */
export async function runDlibHogReference(
  binary: string,
  image: RgbImage,
  upsample: number,
  repeats = 1,
): Promise<DlibReferenceResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ferkit-dlib-hog-'));
  try {
    const file = join(dir, 'image.rgb');
    await writeFile(file, image.data);
    const args = [String(upsample), String(repeats), String(image.width), String(image.height), file];
    const { stdout } = await execFileAsync(binary, args, { maxBuffer: 16 * 1024 * 1024 });
    const detections: DlibReferenceDetection[] = [];
    let medianMs: number | undefined;
    for (const line of stdout.trim().split('\n')) {
      if (line === '') continue;
      const parts = line.split(' ');
      if (parts[0] === 'ms') {
        medianMs = Number(parts[1]);
        continue;
      }
      const [l, t, r, b, c, w] = parts.map(Number);
      detections.push({ rect: [l, t, r, b], confidence: c, weightIndex: w });
    }
    return { detections, medianMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
