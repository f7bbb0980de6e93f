/** Detector input tensors: the image on a zero-padded square canvas (face-api's layout), resized and laid out NCHW. */
import { FerkitError } from '../errors.js';
import type { RgbImage } from '../types.js';
import { assertRgbImage } from './ops.js';
import { resampleBilinearTfPlanar } from './resample-exact.js';

/**
 * A detector input of width × height pixels made from a zero-padded canvas of canvasWidth ×
 * canvasHeight image pixels: the image at its top-left, padding right and bottom (face-api's layout).
 */
export interface DetectorInputGeometry {
  width: number;
  height: number;
  canvasWidth: number;
  canvasHeight: number;
}

/**
 * A detector input for an image: face-api's padded S × S square, or with `fit` the image's aspect
 * ratio — the longer side scaled to S, the shorter one to the next multiple of `multiple` (at most S),
 * so landscape photos and video frames do not spend the detector's work on padding.
 */
export function detectorInputGeometry(
  image: { width: number; height: number },
  inputSize: number,
  fit: boolean,
  multiple: number,
): DetectorInputGeometry {
  if (!fit) return squareInputGeometry(image, inputSize);
  const scale = inputSize / Math.max(image.width, image.height);
  const fitSide = (n: number) => Math.min(inputSize, Math.max(multiple, Math.ceil((n * scale) / multiple) * multiple));
  const width = fitSide(image.width);
  const height = fitSide(image.height);
  return { width, height, canvasWidth: Math.round(width / scale), canvasHeight: Math.round(height / scale) };
}

/** face-api's square geometry: the image padded to a side × side square, resized to S × S. */
export function squareInputGeometry(
  image: { width: number; height: number },
  inputSize: number,
): DetectorInputGeometry {
  const side = Math.max(image.width, image.height);
  return { width: inputSize, height: inputSize, canvasWidth: side, canvasHeight: side };
}

/**
 * Planar RGB float32 [3, height, width] in 0..255: the image zero-padded on the right/bottom to the
 * geometry's canvas and resized with TF's legacy bilinear mapping (SSD and TinyFaceDetector inputs).
 */
export function paddedInputTensor(image: RgbImage, geometry: DetectorInputGeometry, out?: Float32Array): Float32Array {
  assertRgbImage(image);
  const { width, height, canvasWidth, canvasHeight } = geometry;
  if (
    !(Number.isInteger(canvasWidth) && Number.isInteger(canvasHeight)) ||
    canvasWidth < image.width ||
    canvasHeight < image.height
  ) {
    throw new FerkitError(
      'E_INPUT',
      `detector input: canvas ${canvasWidth}x${canvasHeight} must be integers covering the ${image.width}x${image.height} image`,
    );
  }
  const buf = out ?? new Float32Array(3 * width * height);
  resampleBilinearTfPlanar(
    image,
    { x: 0, y: 0, width: image.width, height: image.height },
    { width: canvasWidth, height: canvasHeight, offsetX: 0, offsetY: 0 },
    width,
    height,
    buf,
  );
  return buf;
}

/**
 * face-api's detector input: planar RGB float32 [3, S, S] in 0..255, the image zero-padded on the
 * right/bottom to a square and resized with TF's legacy bilinear mapping (SSD and TinyFaceDetector).
 */
export function squareInputTensor(image: RgbImage, inputSize: number, out?: Float32Array): Float32Array {
  return paddedInputTensor(image, squareInputGeometry(image, inputSize), out);
}
