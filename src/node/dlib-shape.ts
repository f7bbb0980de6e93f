/**
 * Node: dlib's 68-point shape predictor from Debian's libdlib-data, as a ferkit LandmarkModel.
 * The file is read once (~100 MB) and parsed into typed arrays (src/landmarks/dlib-shape-model.ts);
 * prediction is host-free (src/landmarks/dlib-shape-predictor.ts).
 */
import { readFile } from 'node:fs/promises';
import { FerkitError } from '../errors.js';
import { assertRgbImage } from '../image/ops.js';
import { DLIB_BOX_MAPPINGS, type DlibBoxMapping, type DlibBoxSource, mapBox } from '../landmarks/dlib-box-mapping.js';
import { type DlibShapeModel, parseDlibShapePredictor } from '../landmarks/dlib-shape-model.js';
import { boxToDlibRect, createDlibShapePredictor } from '../landmarks/dlib-shape-predictor.js';
import type { LandmarkModel } from '../landmarks/types.js';
import type { Box, Point } from '../types.js';

/** Where Debian's libdlib-data installs dlib's 68-point model. */
export const DEFAULT_DLIB_SHAPE_PREDICTOR_PATH = '/usr/share/dlib/shape_predictor_68_face_landmarks.dat';

/** Reads and parses a dlib shape_predictor file. Missing: E_MODEL naming the package; corrupt: E_MODEL naming the file. */
export async function loadDlibShapePredictor(
  path: string = DEFAULT_DLIB_SHAPE_PREDICTOR_PATH,
): Promise<DlibShapeModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? (e as Error).message})`;
    const hint =
      path === DEFAULT_DLIB_SHAPE_PREDICTOR_PATH
        ? ' (install it with `apt-get install libdlib-data`)'
        : ` (dlib's model is installed by \`apt-get install libdlib-data\` at ${DEFAULT_DLIB_SHAPE_PREDICTOR_PATH})`;
    throw new FerkitError('E_MODEL', `${path}: dlib shape predictor ${why}${hint}`, { cause: e });
  }
  if (bytes.length === 0) throw new FerkitError('E_MODEL', `${path}: dlib shape predictor file is empty`);
  return parseDlibShapePredictor(bytes, path);
}

export interface DlibLandmarksOptions {
  /** The model file; default DEFAULT_DLIB_SHAPE_PREDICTOR_PATH. */
  path?: string;
  /** An already loaded model (then `path` is ignored). */
  model?: DlibShapeModel;
  /**
   * Which detector's boxes will be passed in, to map them to dlib's HOG-box convention first:
   * 'dlib' (dlib's HOG detector: no mapping, the default), 'cnn' (ferkit's SSD), 'blazeface' or 'haar'; or an
   * explicit mapping.
   */
  boxes?: DlibBoxSource | DlibBoxMapping;
}

/** A LandmarkModel running dlib's predictor; points are dlib's float coordinates (not rounded). */
export async function createDlibLandmarks(options: DlibLandmarksOptions = {}): Promise<LandmarkModel> {
  const source = options.boxes ?? 'dlib';
  const mapping = typeof source === 'string' ? DLIB_BOX_MAPPINGS[source] : source;
  if (!mapping) {
    throw new FerkitError(
      'E_INPUT',
      `landmarks dlib: unknown box source '${String(source)}' (dlib, cnn, blazeface or haar)`,
    );
  }
  const model = options.model ?? (await loadDlibShapePredictor(options.path));
  const predictor = createDlibShapePredictor(model);
  let disposed = false;
  return {
    name: 'dlib-shape-predictor-68',
    async detect(image, boxes: readonly Box[]): Promise<Point[][]> {
      if (disposed) throw new FerkitError('E_DISPOSED', 'dlib shape predictor: used after dispose()');
      assertRgbImage(image);
      if (boxes.length === 0) return [];
      return boxes.map((box, k) => {
        if (![box?.x, box?.y, box?.width, box?.height].every(Number.isFinite)) {
          throw new FerkitError('E_INPUT', `boxes[${k}]: x, y, width and height must be finite numbers`);
        }
        // Only the pixels the trees read are made grey (predictRgb), not the whole photo per call.
        const xy = predictor.predictRgb(image, boxToDlibRect(mapBox(box, mapping)));
        const points: Point[] = [];
        for (let j = 0; j < xy.length; j += 2) points.push([xy[j], xy[j + 1]]);
        return points;
      });
    },
    dispose() {
      disposed = true;
    },
  };
}
