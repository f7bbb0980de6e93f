/**
 * Node: dlib's HOG frontal face detector (src/detect/dlib-hog/) with its model extracted from
 * Debian's libdlib-dev on first use (src/node/dlib-hog-extract.ts).
 */
import { readFile } from 'node:fs/promises';
import { createDlibHogDetectorFromModel, type DlibHogDetector, type DlibHogOptions } from '../detect/dlib-hog/index.js';
import { type DlibHogModel, parseDlibHogModel } from '../detect/dlib-hog/model.js';
import { checkDlibHogOptions } from '../detect/dlib-hog/options.js';
import { FerkitError } from '../errors.js';
import { ensureDlibHogModel } from './dlib-hog-extract.js';

export { dlibHogModelPath, ensureDlibHogModel } from './dlib-hog-extract.js';

export interface DlibHogDetectorOptions extends DlibHogOptions {
  /** A model JSON file; default: the one extracted into `.cache/models/` (extracted when missing). */
  modelPath?: string;
}

/** Read a ferkit dlib HOG model; a missing or malformed file is E_MODEL naming the path. */
export async function loadDlibHogModel(path?: string): Promise<DlibHogModel> {
  const file = path ?? (await ensureDlibHogModel());
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FerkitError('E_MODEL', `${file}: cannot read the dlib HOG model (${(e as Error).message})`, { cause: e });
  }
  return parseDlibHogModel(text, file);
}

/**
 * dlib's get_frontal_face_detector() as a ferkit FaceDetector; `upsample` (default 1) as in dlib's
 * Python `detector(img, 1)`. Bad options are E_INPUT naming the option; missing g++/libdlib-dev E_MODEL.
 */
export async function createDlibHogDetector(options: DlibHogDetectorOptions = {}): Promise<DlibHogDetector> {
  const { modelPath, ...detectOptions } = options;
  checkDlibHogOptions(detectOptions);
  return createDlibHogDetectorFromModel(await loadDlibHogModel(modelPath), detectOptions);
}
