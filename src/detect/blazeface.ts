/**
 * Face detection with MediaPipe's BlazeFace (back-camera model), converted to ONNX by
 * src/convert/blazeface.ts. Host-neutral: it only sees the InferenceRuntime interface and RgbImage.
 *
 *   1. input — the image at its aspect ratio, longer side S (default the model's 256), the shorter
 *      side padded (zeros, right or bottom) to a multiple of 32 so that both prediction grids
 *      (strides 16 and 32) cover it exactly (the SSD's 'fit' geometry, src/image/detector-input.ts);
 *      each input pixel the mean of a 2 × 2 grid of image pixels, normalised to x / 127.5 - 1
 *      (blazeFaceInputTensor);
 *   2. anchors — MediaPipe's SSD anchors for this model (fixed_anchor_size): 2 per cell of the
 *      stride-16 grid, 6 per cell of the stride-32 grid, centred in the cell, in row, column,
 *      anchor order (generateBlazeFaceAnchors);
 *   3. decoding — centre = anchor + (r0, r1), size = (r2, r3), all in input pixels;
 *   4. selection — score > threshold (default 0.4), greedy NMS at IoU 0.3, at most maxFaces;
 *   5. mapping back — input pixels → the padded canvas → image pixels, clipped to the image.
 *
 * Boxes follow BlazeFace's convention: about the bounding box of the 68 iBUG points (eyebrows to
 * chin), tighter than the SSD's (which include the forehead). The landmark networks take them as
 * they are (src/node/stages.ts says why); dlib's predictor gets them mapped to its own convention.
 */
import { FerkitError } from '../errors.js';
import { type DetectorInputGeometry, detectorInputGeometry } from '../image/detector-input.js';
import { gridInputTensor } from '../image/grid-sample.js';
import { nonMaxSuppression } from '../image/ops.js';
import { imageInputContract } from '../runtime/onnx-model-info.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import type { Box, Detection, RgbImage } from '../types.js';
import { validateDetectOptions } from './detect-options.js';
import type { DetectOptions, FaceDetector } from './types.js';

/** The converted model's file name in the model cache (ensureBlazeFaceModel, the web app's /models/). */
export const BLAZEFACE_MODEL_FILE = 'blazeface_back.onnx';
/** Tensor names of the converted model (src/convert/blazeface.ts writes them). */
export const BLAZEFACE_MODEL_IO = { input: 'input', scores: 'scores', boxes: 'boxes' } as const;
/** The model's own input size (and ferkit's default S). */
export const BLAZEFACE_DEFAULT_INPUT_SIZE = 256;
/** The input's sides are multiples of the coarsest grid's stride. */
export const BLAZEFACE_FIT_MULTIPLE = 32;
/**
 * Default minimum score. MediaPipe uses 0.5 for this model, which loses a turned face of face-api's
 * demo photos (sample2: 0.49 at 800 px, 0.45 at 1920); 0.4 finds all of them at both sizes and
 * 97.0 % of AFW's faces at IoU ≥ 0.5 (0.5: 95.8 %, 0.35: 97.3 % with 5 % more boxes; `ferkit bench
 * afw --detector blazeface --score X`). Weak false boxes in blurred backgrounds reach ~0.40.
 */
export const BLAZEFACE_DEFAULT_SCORE_THRESHOLD = 0.4;
/** Values per anchor in the `boxes` output: centre offset, size, six key points. */
const REGRESSORS = 16;
/** (stride, anchors per cell) of the two prediction heads, in output order. */
const HEADS: readonly (readonly [number, number])[] = [
  [16, 2],
  [32, 6],
];

/** Anchor centres [A, 2] (x, y) in input pixels for an input of width × height (multiples of 32). */
export function generateBlazeFaceAnchors(height: number, width: number): Float32Array {
  const centres: number[] = [];
  for (const [stride, perCell] of HEADS) {
    const rows = Math.ceil(height / stride);
    const cols = Math.ceil(width / stride);
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < cols; x++)
        for (let k = 0; k < perCell; k++) centres.push(stride * (x + 0.5), stride * (y + 0.5));
  }
  return Float32Array.from(centres);
}

export interface BlazeFaceDetectorOptions {
  /** The ONNX model bytes (blazeface_back.onnx from ensureBlazeFaceModel()). */
  model: Uint8Array;
  /** Names the model in error messages (a path or an id). */
  source?: string;
  /** Intra-op threads; 0 lets the engine choose. */
  threads?: number;
  /** The input's longer side S, a multiple of 32 (default 256, the model's own). */
  inputSize?: number;
}

export interface BlazeFaceDetectOptions extends DetectOptions {
  /** Minimum face score, exclusive. Default BLAZEFACE_DEFAULT_SCORE_THRESHOLD (0.4). */
  scoreThreshold?: number;
  /** NMS overlap above which the weaker box is dropped. Default 0.3. */
  iouThreshold?: number;
  /** At most this many faces, best first. Default 100. */
  maxFaces?: number;
  /** Drop faces whose box is narrower or shorter than this many image pixels. Default 0. */
  minFaceSize?: number;
}

export interface BlazeFaceDetector extends FaceDetector {
  readonly inputSize: number;
  detect(image: RgbImage, options?: BlazeFaceDetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

function resolveOptions(o: BlazeFaceDetectOptions): Required<BlazeFaceDetectOptions> {
  return validateDetectOptions({
    scoreThreshold: o.scoreThreshold ?? BLAZEFACE_DEFAULT_SCORE_THRESHOLD,
    iouThreshold: o.iouThreshold ?? 0.3,
    maxFaces: o.maxFaces ?? 100,
    minFaceSize: o.minFaceSize ?? 0,
  });
}

/** The detector input for an image: longer side S, the other padded to a multiple of 32. */
export function blazeFaceInputShape(imageWidth: number, imageHeight: number, inputSize: number): DetectorInputGeometry {
  return detectorInputGeometry({ width: imageWidth, height: imageHeight }, inputSize, true, BLAZEFACE_FIT_MULTIPLE);
}

/**
 * The model input for an image: planar RGB [3, H, W] of `geometry`, each pixel the mean of a 2 × 2
 * grid over its footprint (gridInputTensor: shrinking a photo ~3–8× with point-sampling bilinear
 * aliases, and cost the weakest demo face a third of its score), normalised to x / 127.5 - 1.
 */
export function blazeFaceInputTensor(image: RgbImage, geometry: DetectorInputGeometry): Float32Array {
  return gridInputTensor(image, geometry, 1 / 127.5, -1, 2);
}

/**
 * Raw outputs of one image → detections in image pixels (steps 3–5). `scores` [A], `regressors`
 * [A, 16], `anchors` [A, 2]; `geometry` is the input that ran.
 */
export function decodeBlazeFaceOutput(
  scores: Float32Array,
  regressors: Float32Array,
  anchors: Float32Array,
  imageWidth: number,
  imageHeight: number,
  geometry: DetectorInputGeometry,
  options: BlazeFaceDetectOptions = {},
): Detection[] {
  const { scoreThreshold, iouThreshold, maxFaces, minFaceSize } = resolveOptions(options);
  const sx = geometry.canvasWidth / geometry.width;
  const sy = geometry.canvasHeight / geometry.height;
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > scoreThreshold) candidates.push(i);
  const boxes: Box[] = candidates.map((i) => {
    const r = i * REGRESSORS;
    const cx = anchors[2 * i] + regressors[r];
    const cy = anchors[2 * i + 1] + regressors[r + 1];
    const w = regressors[r + 2];
    const h = regressors[r + 3];
    return { x: (cx - w / 2) * sx, y: (cy - h / 2) * sy, width: w * sx, height: h * sy };
  });
  const detections: Detection[] = [];
  for (const k of nonMaxSuppression(
    boxes,
    candidates.map((i) => scores[i]),
    iouThreshold,
  )) {
    const b = boxes[k];
    const left = Math.max(0, b.x);
    const top = Math.max(0, b.y);
    const right = Math.min(imageWidth, b.x + b.width);
    const bottom = Math.min(imageHeight, b.y + b.height);
    const box = { x: left, y: top, width: right - left, height: bottom - top };
    if (!(box.width > 0 && box.height > 0) || box.width < minFaceSize || box.height < minFaceSize) continue;
    detections.push({ box, score: scores[candidates[k]] });
    if (detections.length >= maxFaces) break;
  }
  return detections;
}

/** Loads the converted BlazeFace model; the detector owns its session until dispose(). */
export async function createBlazeFaceDetector(
  runtime: InferenceRuntime,
  options: BlazeFaceDetectorOptions,
): Promise<BlazeFaceDetector> {
  const source = options.source ?? BLAZEFACE_MODEL_FILE;
  const inputSize = options.inputSize ?? BLAZEFACE_DEFAULT_INPUT_SIZE;
  if (
    !(Number.isInteger(inputSize) && inputSize >= BLAZEFACE_FIT_MULTIPLE && inputSize % BLAZEFACE_FIT_MULTIPLE === 0)
  ) {
    throw new FerkitError('E_INPUT', `BlazeFace detector: inputSize must be a multiple of 32, got ${inputSize}`);
  }
  let session: ModelSession | null = await runtime.createSession(options.model, source, { threads: options.threads });
  const io = BLAZEFACE_MODEL_IO;
  // The converter's metadata marks the model (the SSD has the same tensor names).
  const { dynamic, nominal } = imageInputContract(options.model, io.input, 'ferkit.blazeface.input_size');
  if (
    !session.inputNames.includes(io.input) ||
    !session.outputNames.includes(io.scores) ||
    !session.outputNames.includes(io.boxes) ||
    !dynamic ||
    nominal === undefined
  ) {
    const found = `inputs [${session.inputNames}], outputs [${session.outputNames}]`;
    await session.dispose();
    throw new FerkitError(
      'E_MODEL',
      `${source}: not a ferkit BlazeFace model (${found}; expected input '${io.input}' [N, 3, H, W], outputs '${io.scores}', '${io.boxes}' and metadata ferkit.blazeface.input_size from src/convert/blazeface.ts)`,
    );
  }
  const anchorsByShape = new Map<string, Float32Array>();
  return {
    name: 'blazeface',
    inputSize,
    async detect(image: RgbImage, detectOptions: BlazeFaceDetectOptions = {}): Promise<Detection[]> {
      const s = session;
      if (!s) throw new FerkitError('E_DISPOSED', 'BlazeFace detector used after dispose()');
      resolveOptions(detectOptions); // reject bad options before spending an inference on them
      const geometry = blazeFaceInputShape(image.width, image.height, inputSize);
      const { width, height } = geometry;
      const out = await s.run({
        [io.input]: { data: blazeFaceInputTensor(image, geometry), dims: [1, 3, height, width] },
      });
      const key = `${height}x${width}`;
      let anchors = anchorsByShape.get(key);
      if (!anchors) {
        anchors = generateBlazeFaceAnchors(height, width);
        anchorsByShape.set(key, anchors);
      }
      if (out[io.scores].data.length !== anchors.length / 2) {
        throw new FerkitError(
          'E_MODEL',
          `${source}: ${out[io.scores].data.length} scores for ${anchors.length / 2} anchors at ${width}x${height}`,
        );
      }
      return decodeBlazeFaceOutput(
        out[io.scores].data,
        out[io.boxes].data,
        anchors,
        image.width,
        image.height,
        geometry,
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
