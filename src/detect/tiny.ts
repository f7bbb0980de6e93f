/**
 * Face detection with face-api's TinyFaceDetector, converted to ONNX by src/convert/faceapi-tiny.ts.
 *
 * The network is a small depthwise-separable MobileNet-style backbone with a YOLOv2 head
 * (face-api's src/tinyFaceDetector + src/tinyYolov2); about 0.2 G multiply-adds at 416 input,
 * against 3.2 G for the SSD MobileNetV1 at 512. Everything face-api does around the network is
 * reproduced here in TypeScript so that results match face-api's
 * `detectAllFaces(input, new TinyFaceDetectorOptions({ inputSize, scoreThreshold }))`:
 *   1. pre-processing — TinyYolov2Base.forwardInput → NetInput.toBatchTensor(S, false): pad the
 *      image with zeros on the right or bottom to a square (NOT centred), then
 *      tf.image.resizeBilinear to S x S (alignCorners = false, halfPixelCenters = false). The graph
 *      then applies (x − MEAN_RGB) / 255 itself (face-api's normalize + div(255); it is 255, not 256);
 *   2. decoding — TinyYolov2Base.extractBoxes: the head is [G, G, 5 anchors, 5] with G = S/32;
 *      per cell/anchor score = sigmoid(t_o) (TinyFaceDetector has one class and no class scores, so
 *      no class factor), kept when strictly above scoreThreshold; centre = (cell + sigmoid(t_xy)) / G,
 *      size = exp(t_wh) · anchor / G, both multiplied by the correction factor S / round(side·S/maxSide)
 *      per axis, which turns units of the padded square into units of the image;
 *   3. selection — nonMaxSuppression(boxes · S, scores, 0.4): greedy, a box survives when its IoU
 *      with every kept box is ≤ 0.4; best first;
 *   4. mapping back — ObjectDetection: relative box × image width/height. face-api does NOT clip
 *      these boxes to the image, and neither does this stage (ferkit's landmark stage clips).
 *
 * 'fit' (default for models with symbolic H × W, converter version ≥ 5): instead of step 1's padded
 * square, the input keeps the image's aspect ratio (longer side S, shorter side padded to a multiple of
 * 32, the grid's cell size), the head is a G_h × G_w grid, and boxes map back exactly through the padded
 * canvas — a 640 × 480 camera frame runs at 416 × 320 instead of 416 × 416.
 *
 * Host-neutral: it only sees the InferenceRuntime interface and RgbImage (no Node imports), so the
 * browser build can use it.
 */
import { FerkitError } from '../errors.js';
import {
  type DetectorInputGeometry,
  detectorInputGeometry,
  paddedInputTensor,
  squareInputTensor,
} from '../image/detector-input.js';
import { nonMaxSuppression } from '../image/ops.js';
import { stripUndefined } from '../options.js';
import { imageInputContract } from '../runtime/onnx-model-info.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import type { Box, Detection, RgbImage } from '../types.js';
import { validateDetectOptions } from './detect-options.js';
import type { DetectOptions, FaceDetector } from './types.js';

/** Tensor names of the converted model (the contract between converter and this stage). */
export const TINY_IO = { input: 'input', output: 'grid' } as const;

/** face-api's TinyFaceDetectorOptions default input size. */
export const TINY_FACEAPI_INPUT_SIZE = 416;
/**
 * ferkit's default input size for the tiny detector (what the integrator should build by default).
 * 416 is face-api's default; see test/tiny-detector.test.ts for recall against the SSD and timings.
 */
export const TINY_DEFAULT_INPUT_SIZE = 416;
/** Input sizes must be multiples of this (the backbone downsamples by 32; face-api enforces it too). */
export const TINY_STRIDE = 32;
export const TINY_MIN_INPUT_SIZE = 64;
export const TINY_MAX_INPUT_SIZE = 1024;

/** face-api's tinyFaceDetector/const.ts: anchor (width, height) in grid cells, MEAN_RGB, IOU_THRESHOLD. */
export const TINY_ANCHORS: readonly (readonly [number, number])[] = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
];
export const TINY_MEAN_RGB = [117.001, 114.697, 97.404] as const;
export const TINY_IOU_THRESHOLD = 0.4;
/** Values per anchor in the head: tx, ty, tw, th, objectness (boxEncodingSize 5: no class scores). */
export const TINY_BOX_ENCODING = 5;

/** Throws a RangeError unless `inputSize` is a multiple of 32 in TINY_MIN_INPUT_SIZE..TINY_MAX_INPUT_SIZE. */
export function checkTinyInputSize(inputSize: number): void {
  if (
    !Number.isInteger(inputSize) ||
    inputSize % TINY_STRIDE !== 0 ||
    inputSize < TINY_MIN_INPUT_SIZE ||
    inputSize > TINY_MAX_INPUT_SIZE
  ) {
    throw new RangeError(
      `tiny face detector input size must be a multiple of ${TINY_STRIDE} in ${TINY_MIN_INPUT_SIZE}..${TINY_MAX_INPUT_SIZE}, got ${inputSize}`,
    );
  }
}

/** Side of the output grid for input size S (S/32). */
export function tinyGridSize(inputSize: number): number {
  return inputSize / TINY_STRIDE;
}

export interface TinyDetectorOptions {
  /** The ONNX model bytes (tiny_face_detector_<S>.onnx). */
  model: Uint8Array;
  /** Names the model in error messages (a path or an id). */
  source?: string;
  /** Intra-op threads; 0 lets the engine choose. */
  threads?: number;
  /**
   * The input size S (longer side of the input). Default: the model's declared [N, 3, S, S], or for
   * models with symbolic H × W their metadata 'ferkit.tiny.input_size'. A fixed input shape only runs
   * at its own size (another value is E_MODEL); symbolic H × W runs at any multiple of 32.
   */
  inputSize?: number;
  /**
   * Run at the image's aspect ratio (default true; needs symbolic H × W): the longer side at S, the
   * shorter padded to a multiple of 32. false: face-api's padded S × S square (results match face-api's).
   */
  fit?: boolean;
}

export interface TinyDetectOptions extends DetectOptions {
  /** Minimum face score, exclusive (face-api's scoreThreshold). Default 0.5, face-api's. */
  scoreThreshold?: number;
  /** NMS overlap: a box is dropped when its IoU with a better kept box is above this. Default 0.4, face-api's. */
  iouThreshold?: number;
  /** At most this many faces, best first. Default 100 (face-api has no limit). */
  maxFaces?: number;
  /** Drop faces whose box is narrower or shorter than this many image pixels (after NMS). Default 0. */
  minFaceSize?: number;
}

export interface TinyDetector extends FaceDetector {
  readonly name: 'tiny-face-detector';
  /** The input size S the model runs at (the longer side of its input). */
  readonly inputSize: number;
  /** Whether inputs follow the image's aspect ratio (see TinyDetectorOptions.fit). */
  readonly fit: boolean;
  /** Faces in `image`, best first, boxes in the image's pixels (unclipped, as face-api's). */
  detect(image: RgbImage, options?: TinyDetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

function resolveDetectOptions(options: TinyDetectOptions): Required<TinyDetectOptions> {
  return validateDetectOptions({
    scoreThreshold: 0.5,
    iouThreshold: TINY_IOU_THRESHOLD,
    maxFaces: 100,
    minFaceSize: 0,
    ...stripUndefined(options), // an option given as undefined keeps its default, as in the other detectors
  });
}

/**
 * face-api's input tensor for one image: planar RGB float32 [3, S, S] in 0..255, the image
 * zero-padded on the right/bottom to a square and resized with TF's legacy bilinear mapping
 * (NetInput.toBatchTensor(S, false)). Writes into `out` when given (3·S·S values).
 */
export function tinyInputTensor(image: RgbImage, inputSize: number, out?: Float32Array): Float32Array {
  return squareInputTensor(image, inputSize, out);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Decodes the raw head of one image into detections in image pixels (steps 2–4 above).
 * `grid` is the model's output for that image, [G_h, G_w, 5, 5] (row, column, anchor,
 * [tx, ty, tw, th, to]) flattened. `input` is S for face-api's square (G = S/32, face-api's own
 * correction factors), or the geometry of the input that ran (G = H/32 × W/32, mapped exactly onto
 * its padded canvas).
 */
export function decodeTinyOutput(
  grid: Float32Array,
  imageWidth: number,
  imageHeight: number,
  input: number | DetectorInputGeometry,
  options: TinyDetectOptions = {},
): Detection[] {
  const { scoreThreshold, iouThreshold, maxFaces, minFaceSize } = resolveDetectOptions(options);
  const inputW = typeof input === 'number' ? input : input.width;
  const inputH = typeof input === 'number' ? input : input.height;
  const inputSize = Math.max(inputW, inputH);
  const cellsX = tinyGridSize(inputW);
  const cellsY = tinyGridSize(inputH);
  const numAnchors = TINY_ANCHORS.length;
  if (grid.length < cellsX * cellsY * numAnchors * TINY_BOX_ENCODING) {
    throw new FerkitError('E_MODEL', `tiny detector: head has ${grid.length} values, expected ${cellsY}x${cellsX}x5x5`);
  }
  // Units of the input → units of the image. face-api: getReshapedInputDimensions + extractBoxes'
  // correction factors; a geometry: the input covers its canvas, so canvas / image per axis.
  let corrX: number;
  let corrY: number;
  if (typeof input === 'number') {
    const scale = inputSize / Math.max(imageWidth, imageHeight);
    const reshapedW = Math.round(imageWidth * scale);
    const reshapedH = Math.round(imageHeight * scale);
    const side = Math.max(reshapedW, reshapedH);
    corrX = side / reshapedW;
    corrY = side / reshapedH;
  } else {
    corrX = input.canvasWidth / imageWidth;
    corrY = input.canvasHeight / imageHeight;
  }

  const boxes: Box[] = []; // relative to the image (0..1 inside it)
  const scores: number[] = [];
  for (let row = 0; row < cellsY; row++) {
    for (let col = 0; col < cellsX; col++) {
      for (let a = 0; a < numAnchors; a++) {
        const o = ((row * cellsX + col) * numAnchors + a) * TINY_BOX_ENCODING;
        const score = sigmoid(grid[o + 4]);
        if (scoreThreshold && !(score > scoreThreshold)) continue;
        const ctX = ((col + sigmoid(grid[o])) / cellsX) * corrX;
        const ctY = ((row + sigmoid(grid[o + 1])) / cellsY) * corrY;
        const w = ((Math.exp(grid[o + 2]) * TINY_ANCHORS[a][0]) / cellsX) * corrX;
        const h = ((Math.exp(grid[o + 3]) * TINY_ANCHORS[a][1]) / cellsY) * corrY;
        boxes.push({ x: ctX - w / 2, y: ctY - h / 2, width: w, height: h });
        scores.push(score);
      }
    }
  }
  // face-api runs NMS on the boxes rescaled by S (kept for exactness); in image pixels otherwise.
  const [nmsX, nmsY] = typeof input === 'number' ? [inputSize, inputSize] : [imageWidth, imageHeight];
  const kept = nonMaxSuppression(
    boxes.map((b) => ({
      x: b.x * nmsX,
      y: b.y * nmsY,
      width: b.width * nmsX,
      height: b.height * nmsY,
    })),
    scores,
    iouThreshold,
  );
  const detections: Detection[] = [];
  for (const k of kept) {
    const b = boxes[k];
    const box = {
      x: b.x * imageWidth,
      y: b.y * imageHeight,
      width: b.width * imageWidth,
      height: b.height * imageHeight,
    };
    if (box.width < minFaceSize || box.height < minFaceSize) continue;
    detections.push({ box, score: scores[k] });
    if (detections.length >= maxFaces) break;
  }
  return detections;
}

/** Loads the converted tiny face detector; the returned detector owns its session until dispose(). */
export async function createTinyFaceDetector(
  runtime: InferenceRuntime,
  options: TinyDetectorOptions,
): Promise<TinyDetector> {
  const source = options.source ?? 'tiny_face_detector.onnx';
  const wanted = options.inputSize;
  if (wanted !== undefined) {
    try {
      checkTinyInputSize(wanted);
    } catch (e) {
      throw new FerkitError('E_INPUT', `tiny detector: ${(e as Error).message}`);
    }
  }
  const { shape, declared, dynamic, nominal } = imageInputContract(
    options.model,
    TINY_IO.input,
    'ferkit.tiny.input_size',
  );
  if (declared !== null && wanted !== undefined && declared !== wanted) {
    throw new FerkitError(
      'E_MODEL',
      `${source}: model input is ${declared}x${declared}, but inputSize ${wanted} was given`,
    );
  }
  const inputSize = wanted ?? declared ?? nominal;
  const fit = dynamic && (options.fit ?? true);
  if (inputSize === undefined) {
    throw new FerkitError(
      'E_MODEL',
      `${source}: cannot tell the tiny detector's input size (input shape ${shape ? `[${shape}]` : 'unreadable'}); pass inputSize`,
    );
  }
  try {
    checkTinyInputSize(inputSize);
  } catch (e) {
    throw new FerkitError('E_MODEL', `${source}: ${(e as Error).message}`);
  }
  let session: ModelSession | null = await runtime.createSession(options.model, source, { threads: options.threads });
  if (!session.inputNames.includes(TINY_IO.input) || !session.outputNames.includes(TINY_IO.output)) {
    const { inputNames, outputNames } = session;
    await session.dispose();
    throw new FerkitError(
      'E_MODEL',
      `${source}: not a ferkit tiny face detector model (inputs [${inputNames}], outputs [${outputNames}]; expected input '${TINY_IO.input}' and output '${TINY_IO.output}')`,
    );
  }
  return {
    name: 'tiny-face-detector',
    inputSize,
    fit,
    async detect(image: RgbImage, detectOptions: TinyDetectOptions = {}): Promise<Detection[]> {
      const s = session;
      if (!s) throw new FerkitError('E_DISPOSED', 'tiny face detector used after dispose()');
      resolveDetectOptions(detectOptions); // reject bad options before spending an inference on them
      const geometry = detectorInputGeometry(image, inputSize, fit, TINY_STRIDE);
      const input = paddedInputTensor(image, geometry);
      const out = await s.run({ [TINY_IO.input]: { data: input, dims: [1, 3, geometry.height, geometry.width] } });
      return decodeTinyOutput(
        out[TINY_IO.output].data,
        image.width,
        image.height,
        fit ? geometry : inputSize,
        detectOptions,
      );
    },
    async dispose() {
      const s = session;
      session = null;
      await s?.dispose();
    },
  };
}
