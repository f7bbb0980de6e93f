/**
 * dlib's shape_predictor (Kazemi & Sullivan 2014, an ensemble of regression trees) run on a face
 * rectangle, computing what dlib/image_processing/shape_predictor.h computes, in the same precision:
 *
 *  - grey levels: get_pixel_intensity(rgb_pixel) = (r + g + b) / 3 in unsigned integer arithmetic
 *    (dlib converts the whole image first; predictRgb converts only the feature pixels it reads);
 *  - the shape lives in box-normalised coordinates; unnormalizing_tform(rect) maps (0,0) to the
 *    rectangle's top-left and (1,1) to its bottom-right corner (dlib rectangles are inclusive, so the
 *    scale is right − left, not the width);
 *  - per cascade, find_tform_between_shapes(initial_shape, current_shape): Umeyama's least-squares
 *    similarity transform (accumulated in double), of which only the 2×2 part is used, cast to
 *    float. For 2-D points Umeyama's SVD solution has the closed form c·R = [[a, −b], [b, a]] with
 *    a = (cov00 + cov11) / σ², b = (cov10 − cov01) / σ²; the two agree to a few double ulps, far
 *    below the float cast;
 *  - feature pixel i: tform·delta_i + current_shape[anchor_i] in float, mapped to the image in
 *    double and rounded as dlib's point conversion does (floor(x + 0.5)); outside the image it is 0;
 *  - each tree: at node i go left (2i + 1) when f[idx1] − f[idx2] > thresh, else right (2i + 2); the
 *    leaf's shape delta is added to the float shape, tree after tree, in order.
 * The result is dlib's float points (before full_object_detection rounds them to integer pixels).
 */
import type { Box, GrayImage, RgbImage } from '../types.js';
import { createLeafSummer, type LeafSummer } from './dlib-leaf-sum.js';
import type { DlibShapeModel } from './dlib-shape-model.js';

/** A dlib rectangle: integer, inclusive corners (width = right − left + 1). */
export interface DlibRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * ferkit box (x, y, width, height; right edge exclusive) → dlib rectangle, corners rounded to whole
 * pixels as dlib's rectangles are. Inverse of dlibRectToBox for integer rectangles.
 */
export function boxToDlibRect(box: Box): DlibRect {
  const left = Math.round(box.x);
  const top = Math.round(box.y);
  return { left, top, right: Math.round(box.x + box.width) - 1, bottom: Math.round(box.y + box.height) - 1 };
}

/** dlib rectangle → ferkit box: (left, top, right − left + 1, bottom − top + 1). */
export function dlibRectToBox(rect: DlibRect): Box {
  return { x: rect.left, y: rect.top, width: rect.right - rect.left + 1, height: rect.bottom - rect.top + 1 };
}

/** dlib's grey level of an rgb_pixel: (r + g + b) / 3, truncated (assign_pixel, dlib/pixel.h). */
export function dlibGray(image: RgbImage): GrayImage {
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) out[i] = ((data[j] + data[j + 1] + data[j + 2]) / 3) | 0;
  return { width, height, data: out };
}

/** A predictor bound to one model, with its scratch buffers allocated once. */
export interface DlibShapePredictor {
  readonly model: DlibShapeModel;
  /**
   * dlib's points for one rectangle on a grey image, as floats in image pixels: x0, y0, x1, y1, …
   * (dlib's full_object_detection holds Math.floor(v + 0.5) of each). Writes into `out` if given.
   */
  predict(gray: GrayImage, rect: DlibRect, out?: Float64Array): Float64Array;
  /**
   * The same points straight from an RGB image: only the feature pixels the trees read (a few
   * thousand per face) are converted to dlib's grey level, instead of the whole image first. Equal,
   * bit for bit, to predict(dlibGray(image), rect).
   */
  predictRgb(image: RgbImage, rect: DlibRect, out?: Float64Array): Float64Array;
}

/**
 * One leaf summer per model (its WebAssembly memory holds a copy of the 65 MB of leaves), shared
 * by the model's predictors: predict() is synchronous, so they never use its scratch at once.
 */
const summers = new WeakMap<DlibShapeModel, LeafSummer>();

export interface DlibShapePredictorOptions {
  /** Sum leaves with WebAssembly SIMD when the host has it (default true; false: plain JavaScript, same results). */
  simd?: boolean;
}

export function createDlibShapePredictor(
  model: DlibShapeModel,
  options: DlibShapePredictorOptions = {},
): DlibShapePredictor {
  const { numParts, initialShape, cascades } = model;
  const shapeLength = 2 * numParts;
  const maxTrees = Math.max(0, ...cascades.map((c) => c.numTrees));
  const simd = options.simd !== false;
  let summer = simd ? summers.get(model) : undefined;
  if (!summer) {
    summer = createLeafSummer(model.leaves, shapeLength, maxTrees, simd);
    if (simd) summers.set(model, summer);
  }
  const { vector: current, rows } = summer;
  const addRows = summer.add;
  const maxFeatures = Math.max(0, ...cascades.map((c) => c.anchorIdx.length));
  const features = new Float64Array(maxFeatures);

  // Means and centred coordinates of the initial shape (the "from" side of every transform).
  let meanX = 0;
  let meanY = 0;
  for (let j = 0; j < numParts; j++) {
    meanX += initialShape[2 * j];
    meanY += initialShape[2 * j + 1];
  }
  meanX /= numParts;
  meanY /= numParts;
  let sigmaFrom = 0;
  for (let j = 0; j < numParts; j++) {
    const dx = initialShape[2 * j] - meanX;
    const dy = initialShape[2 * j + 1] - meanY;
    sigmaFrom += dx * dx + dy * dy;
  }
  sigmaFrom /= numParts;

  const fround = Math.fround;

  /** `channels`: 1 = grey pixels; 3 = RGB pixels, each read converted as dlibGray converts it. */
  function run(image: GrayImage | RgbImage, channels: 1 | 3, rect: DlibRect, out: Float64Array): Float64Array {
    const { width, height, data } = image;
    const scaleX = rect.right - rect.left;
    const scaleY = rect.bottom - rect.top;
    const offsetX = rect.left;
    const offsetY = rect.top;
    current.set(initialShape);
    for (let c = 0; c < cascades.length; c++) {
      const cascade = cascades[c];
      // find_tform_between_shapes(initial_shape, current_shape), 2×2 part, in double then cast to float.
      let toX = 0;
      let toY = 0;
      for (let j = 0; j < numParts; j++) {
        toX += current[2 * j];
        toY += current[2 * j + 1];
      }
      toX /= numParts;
      toY /= numParts;
      let c00 = 0;
      let c01 = 0;
      let c10 = 0;
      let c11 = 0;
      for (let j = 0; j < numParts; j++) {
        const fx = initialShape[2 * j] - meanX;
        const fy = initialShape[2 * j + 1] - meanY;
        const tx = current[2 * j] - toX;
        const ty = current[2 * j + 1] - toY;
        c00 += tx * fx;
        c01 += tx * fy;
        c10 += ty * fx;
        c11 += ty * fy;
      }
      c00 /= numParts;
      c01 /= numParts;
      c10 /= numParts;
      c11 /= numParts;
      const scale = sigmaFrom !== 0 ? 1 / sigmaFrom : 1;
      const m00 = fround((c00 + c11) * scale);
      const m10 = fround((c10 - c01) * scale);
      const m01 = -m10;
      const m11 = m00;

      // extract_feature_pixel_values
      const { anchorIdx, deltas } = cascade;
      const numFeatures = anchorIdx.length;
      for (let i = 0; i < numFeatures; i++) {
        const a = 2 * anchorIdx[i];
        const dx = deltas[2 * i];
        const dy = deltas[2 * i + 1];
        const px = fround(fround(fround(m00 * dx) + fround(m01 * dy)) + current[a]);
        const py = fround(fround(fround(m10 * dx) + fround(m11 * dy)) + current[a + 1]);
        const x = Math.floor(scaleX * px + offsetX + 0.5);
        const y = Math.floor(scaleY * py + offsetY + 0.5);
        if (x < 0 || y < 0 || x >= width || y >= height) features[i] = 0;
        else if (channels === 1) features[i] = data[y * width + x];
        else {
          const k = 3 * (y * width + x);
          features[i] = ((data[k] + data[k + 1] + data[k + 2]) / 3) | 0;
        }
      }

      // Every tree of this cascade picks a leaf; their shape deltas are added in tree order.
      const { numTrees, splitStart, idx1, idx2, thresh, leafStart } = cascade;
      for (let t = 0; t < numTrees; t++) {
        const s0 = splitStart[t];
        const numSplits = splitStart[t + 1] - s0;
        let i = 0;
        while (i < numSplits) {
          const s = s0 + i;
          i = features[idx1[s]] - features[idx2[s]] > thresh[s] ? 2 * i + 1 : 2 * i + 2;
        }
        rows[t] = leafStart[t] + i - numSplits;
      }
      addRows(numTrees);
    }
    for (let j = 0; j < numParts; j++) {
      out[2 * j] = scaleX * current[2 * j] + offsetX;
      out[2 * j + 1] = scaleY * current[2 * j + 1] + offsetY;
    }
    return out;
  }

  return {
    model,
    predict: (gray, rect, out = new Float64Array(shapeLength)) => run(gray, 1, rect, out),
    predictRgb: (image, rect, out = new Float64Array(shapeLength)) => run(image, 3, rect, out),
  };
}

/** dlib's integer point for a float coordinate (dlib::vector's conversion: floor(v + 0.5)). */
export function dlibRound(v: number): number {
  return Math.floor(v + 0.5);
}
