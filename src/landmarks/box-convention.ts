/**
 * Detector boxes → the box convention the 68-point networks were trained on. ferkit's landmark
 * model was trained on boxes of ferkit's SSD (and face-api's net on the same family of boxes, which
 * include the forehead); BlazeFace's boxes are tighter (about the bounding box of the 68 points), so
 * the landmark stage maps them first. dlib's predictor has its own mappings
 * (./dlib-box-mapping.ts); for BlazeFace's boxes it gets this mapping followed by the SSD's.
 */
import type { Box, Point, RgbImage } from '../types.js';
import { type DlibBoxMapping, mapBox } from './dlib-box-mapping.js';
import type { LandmarkModel } from './types.js';

/** Box-relative map cx' = cx + ox·w, cy' = cy + oy·h, w' = sw·w, h' = sh·h (same form as dlib's). */
export type BoxMapping = DlibBoxMapping;

/**
 * BlazeFace box → ferkit SSD (int8, S 320) box of the same face. Fitted on HELEN-train
 * (../shared/data/helen-train, 870 faces; never on AFW) by
 * `npx tsc -p tsconfig.json && node scripts/fit-blazeface-box-mapping.mjs`: per-parameter medians
 * over the 869 of 870 faces both detectors found.
 */
export const BLAZEFACE_TO_SSD_BOX: BoxMapping = { ox: -0.0288, oy: -0.0823, sw: 0.9072, sh: 1.0982 };

/** `first` then `second` as one mapping. */
export function composeBoxMappings(first: BoxMapping, second: BoxMapping): BoxMapping {
  return {
    ox: first.ox + second.ox * first.sw,
    oy: first.oy + second.oy * first.sh,
    sw: first.sw * second.sw,
    sh: first.sh * second.sh,
  };
}

/** `model` reading every box through `mapping` first (points stay in image pixels). */
export function withBoxMapping(model: LandmarkModel, mapping: BoxMapping): LandmarkModel {
  return {
    name: model.name,
    detect: (image: RgbImage, boxes: readonly Box[]): Promise<Point[][]> =>
      model.detect(
        image,
        boxes.map((b) => mapBox(b, mapping)),
      ),
    dispose: () => model.dispose(),
  };
}
