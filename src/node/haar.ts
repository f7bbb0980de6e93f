/**
 * Node: the Haar-cascade detector (src/detect/haar.ts) from a cascade XML file on disk. The
 * browser reads the XML with fetch() instead (src/browser/analyzer.ts); both parse it with parseHaarCascade.
 */
import { readFile } from 'node:fs/promises';
import {
  checkHaarOptions,
  createHaarDetectorFromCascade,
  type HaarDetectOptions,
  type HaarDetector,
} from '../detect/haar.js';
import { DEFAULT_HAAR_CASCADE_PATH, type HaarCascade, parseHaarCascade } from '../detect/haar-cascade.js';
import { FerkitError } from '../errors.js';

export { DEFAULT_HAAR_CASCADE_PATH } from '../detect/haar-cascade.js';

export interface HaarDetectorOptions extends HaarDetectOptions {
  /** The cascade XML; default DEFAULT_HAAR_CASCADE_PATH (Debian/Ubuntu opencv-data). */
  cascadePath?: string;
}

/** Read and parse a cascade file. A missing or unreadable file is E_MODEL naming the path. */
export async function loadHaarCascade(path: string = DEFAULT_HAAR_CASCADE_PATH): Promise<HaarCascade> {
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      path === DEFAULT_HAAR_CASCADE_PATH ? ' (install it with `apt-get install opencv-data`, or pass cascadePath)' : '';
    const why =
      code === 'ENOENT' ? 'cascade file not found' : `cannot read cascade file (${code ?? (e as Error).message})`;
    throw new FerkitError('E_MODEL', `${path}: ${why}${hint}`, { cause: e });
  }
  if (xml.length === 0) throw new FerkitError('E_MODEL', `${path}: cascade file is empty`);
  return parseHaarCascade(xml, path);
}

/**
 * Load a cascade (default: opencv-data's haarcascade_frontalface_default.xml) and make a detector.
 * A missing, malformed or unsupported cascade file is FerkitError('E_MODEL', '<path>: ...').
 */
export async function createHaarDetector(options: HaarDetectorOptions = {}): Promise<HaarDetector> {
  const { cascadePath, ...detectOptions } = options;
  checkHaarOptions(detectOptions);
  const cascade = await loadHaarCascade(cascadePath ?? DEFAULT_HAAR_CASCADE_PATH);
  return createHaarDetectorFromCascade(cascade, detectOptions);
}
