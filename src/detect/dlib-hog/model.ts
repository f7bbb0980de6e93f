/**
 * dlib's frontal face detector as ferkit reads it: the scanner's geometry (scan_fhog_pyramid), the
 * overlap test of its non-max suppression (test_box_overlap) and, per weight vector, its threshold
 * and its fhog_filterbank's separable filters, exactly as dlib's build_fhog_filterbank makes them
 * (row and column filters from an SVD of each 10×10 filter plane, tiny singular values dropped).
 *
 * The JSON file (`.cache/models/dlib_frontal_face_detector.json`, written by
 * src/node/dlib-hog-extract.ts from Debian libdlib-dev's frontal_face_detector.h) is:
 *   { "format": "ferkit-dlib-hog-1", "cellSize": 8, "padding": 0, "windowWidth": 80, "windowHeight": 80,
 *     "filterWidth": 10, "filterHeight": 10, "maxPyramidLevels": 1000, "minPyramidLayerWidth": 64,
 *     "minPyramidLayerHeight": 64, "numPlanes": 31, "overlapIou": …, "overlapCovered": …,
 *     "detectors": [ { "threshold": …, "separable": [ { "plane": p, "row": [10 floats], "col": [10 floats] }, … ] } × 5 ] }
 * Floats are printed with 9 significant digits (exact float32 round trip); thresholds with 17.
 * Host-free: parsing only, no file access.
 */
import { FerkitError } from '../../errors.js';

export const DLIB_HOG_FORMAT = 'ferkit-dlib-hog-1';

/** One rank-1 term of a filter plane: the plane's response is Σ over its terms of col ⊗ row. */
export interface SeparableTerm {
  plane: number;
  row: Float32Array;
  col: Float32Array;
}

export interface DlibHogFilter {
  /** w(num_dimensions): a window is a detection when its filter response is ≥ this. */
  threshold: number;
  /** In dlib's order: planes ascending, then the terms of each plane by decreasing singular value. */
  terms: SeparableTerm[];
}

export interface DlibHogModel {
  cellSize: number;
  padding: number;
  /** The detection window in pixels (80×80 for dlib's face detector). */
  windowWidth: number;
  windowHeight: number;
  /** The filter size in fHOG cells (fhog window, 10×10). */
  filterWidth: number;
  filterHeight: number;
  maxPyramidLevels: number;
  minPyramidLayerWidth: number;
  minPyramidLayerHeight: number;
  numPlanes: number;
  /** test_box_overlap: two boxes overlap when IoU (over their bounding box) > overlapIou or either is covered > overlapCovered. */
  overlapIou: number;
  overlapCovered: number;
  filters: DlibHogFilter[];
}

/** Parse and check the extracted model JSON; anything malformed is E_MODEL naming `source`. */
export function parseDlibHogModel(json: string, source: string): DlibHogModel {
  const bad = (what: string): never => {
    throw new FerkitError('E_MODEL', `${source}: not a ferkit dlib HOG model (${what}); delete it to re-extract`);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    return bad(`invalid JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || raw.format !== DLIB_HOG_FORMAT)
    bad(`format is not ${DLIB_HOG_FORMAT}`);
  const int = (k: string, min: number): number => {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`${k} must be an integer ≥ ${min}`);
    return v as number;
  };
  const num = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${what} must be a finite number`);
    return v as number;
  };
  const model = {
    cellSize: int('cellSize', 1),
    padding: int('padding', 0),
    windowWidth: int('windowWidth', 1),
    windowHeight: int('windowHeight', 1),
    filterWidth: int('filterWidth', 1),
    filterHeight: int('filterHeight', 1),
    maxPyramidLevels: int('maxPyramidLevels', 1),
    minPyramidLayerWidth: int('minPyramidLayerWidth', 1),
    minPyramidLayerHeight: int('minPyramidLayerHeight', 1),
    numPlanes: int('numPlanes', 31),
    overlapIou: num(raw.overlapIou, 'overlapIou'),
    overlapCovered: num(raw.overlapCovered, 'overlapCovered'),
    filters: [] as DlibHogFilter[],
  };
  if (model.numPlanes !== 31) bad('numPlanes must be 31 (fHOG)');
  const dets = raw.detectors;
  if (!Array.isArray(dets) || dets.length === 0) bad('detectors must be a non-empty array');
  for (const [i, d] of (dets as Record<string, unknown>[]).entries()) {
    const threshold = num(d?.threshold, `detectors[${i}].threshold`);
    const sep = d?.separable;
    if (!Array.isArray(sep)) bad(`detectors[${i}].separable must be an array`);
    const terms: SeparableTerm[] = [];
    let lastPlane = -1;
    for (const t of sep as Record<string, unknown>[]) {
      const plane = t?.plane;
      if (typeof plane !== 'number' || !Number.isInteger(plane) || plane < lastPlane || plane >= model.numPlanes)
        bad(`detectors[${i}]: planes must be ascending integers < ${model.numPlanes}`);
      lastPlane = plane as number;
      const vec = (v: unknown, n: number, what: string): Float32Array => {
        if (!Array.isArray(v) || v.length !== n) bad(`detectors[${i}] plane ${plane}: ${what} must have ${n} numbers`);
        return Float32Array.from(v as unknown[], (x) => num(x, `detectors[${i}] ${what}`));
      };
      terms.push({
        plane: plane as number,
        row: vec(t.row, model.filterWidth, 'row'),
        col: vec(t.col, model.filterHeight, 'col'),
      });
    }
    // dlib uses the full (non-separable) filters when the separable form would be slower; ferkit
    // only implements the separable path, which dlib takes for its face detector (≈ 60 terms ≤ 103).
    if (terms.length > (model.numPlanes * Math.min(model.filterWidth, model.filterHeight)) / 3)
      bad(
        `detectors[${i}] has ${terms.length} separable terms: dlib would use its full filters, which ferkit does not implement`,
      );
    model.filters.push({ threshold, terms });
  }
  return model;
}
