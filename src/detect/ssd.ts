/**
 * Face detection with face-api's SSD MobileNetV1, converted to ONNX by src/convert/faceapi-ssd.ts.
 *
 * The network is only the convolutional part; everything face-api does around it is reproduced
 * here in TypeScript so that results match face-api's `detectAllFaces(input, SsdMobilenetv1Options)`:
 *   1. pre-processing — NetInput.toBatchTensor(512, false): pad the image with zeros on the right
 *      or bottom to a square (NOT centred), then tf.image.resizeBilinear to 512x512 with
 *      alignCorners = false and halfPixelCenters = false (see resampleBilinearTfPlanar);
 *   2. box decoding — outputLayer.ts: SSD centre/size decoding against face-api's 5118 priors with
 *      scale factors 10 (centres) and 5 (log sizes);
 *   3. selection — nonMaxSuppression.ts: keep scores strictly above the threshold, greedy NMS on the
 *      unclipped boxes (a box survives if its IoU with every kept box is ≤ iouThreshold), at most
 *      maxFaces;
 *   4. mapping back — SsdMobilenetv1.locateFaces: clip to the unit square, scale by
 *      512 / round(side · 512 / max(width, height)) per axis, multiply by the image size.
 *
 * This module is host-neutral: it only sees the InferenceRuntime interface and RgbImage.
 */
import { FerkitError } from '../errors.js';
import { nonMaxSuppression, resampleBilinearTfPlanar } from '../image/ops.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import type { Box, Detection, RgbImage } from '../types.js';
import type { DetectOptions, FaceDetector } from './types.js';

/** Side of the square network input. */
export const SSD_INPUT_SIZE = 512;
/** Number of priors (3·32² + 6·(16² + 8² + 4² + 2² + 1²)). */
export const SSD_NUM_ANCHORS = 5118;
/** Tensor names of the converted model (the contract between converter and this stage). */
export const SSD_IO = { input: 'input', boxes: 'boxes', scores: 'scores', anchors: 'anchors' } as const;

export interface SsdDetectorOptions {
  /** The ONNX model bytes (ssd_mobilenetv1.onnx from ensureFaceApiModels()). */
  model: Uint8Array;
  /** Names the model in error messages (a path or an id). */
  source?: string;
  /** Intra-op threads; 0 lets the engine choose. */
  threads?: number;
}

export interface SsdDetectOptions extends DetectOptions {
  /** Minimum face score, exclusive (face-api's minConfidence). Default 0.5. */
  scoreThreshold?: number;
  /**
   * NMS overlap: a box is dropped when its IoU with a better kept box is above this. Default 0.3,
   * ferkit's choice; face-api hard-codes 0.5 in SsdMobilenetv1.locateFaces — pass 0.5 to match it
   * exactly (0.3 only removes more overlapping duplicates).
   */
  iouThreshold?: number;
  /** At most this many faces, best first (face-api's maxResults). Default 100. */
  maxFaces?: number;
  /** Drop faces whose box is narrower or shorter than this many image pixels (after NMS). Default 0. */
  minFaceSize?: number;
}

export interface SsdDetector extends FaceDetector {
  /** Faces in `image`, best first, boxes in the image's pixels. */
  detect(image: RgbImage, options?: SsdDetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

function checkImage(image: RgbImage): void {
  const { width, height, data } = image ?? {};
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new FerkitError('E_INPUT', `image: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!data || data.length !== width * height * 3) {
    throw new FerkitError('E_INPUT', `image: expected ${width * height * 3} RGB bytes, got ${data?.length}`);
  }
}

function resolveDetectOptions(options: SsdDetectOptions): Required<SsdDetectOptions> {
  const o = { scoreThreshold: 0.5, iouThreshold: 0.3, maxFaces: 100, minFaceSize: 0, ...options };
  const bad = (what: string) => new FerkitError('E_INPUT', `detect: ${what}`);
  if (!(o.scoreThreshold >= 0 && o.scoreThreshold < 1))
    throw bad(`scoreThreshold must be in [0, 1), got ${o.scoreThreshold}`);
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1)) throw bad(`iouThreshold must be in (0, 1], got ${o.iouThreshold}`);
  if (!Number.isInteger(o.maxFaces) || o.maxFaces < 1)
    throw bad(`maxFaces must be a positive integer, got ${o.maxFaces}`);
  if (!(o.minFaceSize >= 0)) throw bad(`minFaceSize must be ≥ 0, got ${o.minFaceSize}`);
  return o;
}

/**
 * face-api's input tensor for one image: planar RGB float32 [3, 512, 512] in 0..255, the image
 * zero-padded on the right/bottom to a square and resized with TF's legacy bilinear mapping.
 */
export function ssdInputTensor(image: RgbImage): Float32Array {
  checkImage(image);
  const side = Math.max(image.width, image.height);
  const out = new Float32Array(3 * SSD_INPUT_SIZE * SSD_INPUT_SIZE);
  resampleBilinearTfPlanar(
    image,
    { x: 0, y: 0, width: image.width, height: image.height },
    { width: side, height: side, offsetX: 0, offsetY: 0 },
    SSD_INPUT_SIZE,
    SSD_INPUT_SIZE,
    out,
  );
  return out;
}

/**
 * Decodes anchor `i` (outputLayer.ts decodeBoxesLayer): anchors and encodings are [5118, 4] with
 * anchors as [ymin, xmin, ymax, xmax] in the padded unit square and encodings as (ty, tx, th, tw).
 * Returns the box in that unit square, unclipped.
 */
export function decodeSsdBox(encodings: Float32Array, anchors: Float32Array, i: number): Box {
  const [a0, a1, a2, a3] = anchors.subarray(i * 4, i * 4 + 4);
  const [ty, tx, th, tw] = encodings.subarray(i * 4, i * 4 + 4);
  const ah = a2 - a0;
  const aw = a3 - a1;
  const cy = (ty / 10) * ah + (a0 + ah / 2);
  const cx = (tx / 10) * aw + (a1 + aw / 2);
  const halfH = (Math.exp(th / 5) * ah) / 2;
  const halfW = (Math.exp(tw / 5) * aw) / 2;
  return { x: cx - halfW, y: cy - halfH, width: 2 * halfW, height: 2 * halfH };
}

/**
 * Decodes the raw network outputs of one image into detections in image pixels (steps 2–4 above).
 * `encodings` and `anchors` are [5118, 4]; `scores` is [5118].
 */
export function decodeSsdOutput(
  encodings: Float32Array,
  scores: Float32Array,
  anchors: Float32Array,
  imageWidth: number,
  imageHeight: number,
  options: SsdDetectOptions = {},
): Detection[] {
  const { scoreThreshold, iouThreshold, maxFaces, minFaceSize } = resolveDetectOptions(options);
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > scoreThreshold) candidates.push(i);

  const unit = candidates.map((i) => decodeSsdBox(encodings, anchors, i));
  // NMS on the unclipped unit-square boxes, as face-api does (IoU is scale-invariant, clipping is not).
  const kept = nonMaxSuppression(
    unit,
    candidates.map((i) => scores[i]),
    iouThreshold,
  );

  // locateFaces: the padded square covers 512 / round(side·512/maxSide) of the image per axis.
  const scale = SSD_INPUT_SIZE / Math.max(imageWidth, imageHeight);
  const padX = SSD_INPUT_SIZE / Math.round(imageWidth * scale);
  const padY = SSD_INPUT_SIZE / Math.round(imageHeight * scale);
  const detections: Detection[] = [];
  for (const k of kept) {
    const b = unit[k];
    const left = Math.max(0, b.x) * padX;
    const right = Math.min(1, b.x + b.width) * padX;
    const top = Math.max(0, b.y) * padY;
    const bottom = Math.min(1, b.y + b.height) * padY;
    const box = {
      x: left * imageWidth,
      y: top * imageHeight,
      width: (right - left) * imageWidth,
      height: (bottom - top) * imageHeight,
    };
    if (box.width < minFaceSize || box.height < minFaceSize) continue;
    detections.push({ box, score: scores[candidates[k]] });
    if (detections.length >= maxFaces) break;
  }
  return detections;
}

/** Loads the converted SSD model; the returned detector owns its session until dispose(). */
export async function createSsdDetector(runtime: InferenceRuntime, options: SsdDetectorOptions): Promise<SsdDetector> {
  const source = options.source ?? 'ssd_mobilenetv1.onnx';
  let session: ModelSession | null = await runtime.createSession(options.model, source, { threads: options.threads });
  const missing = [SSD_IO.boxes, SSD_IO.scores, SSD_IO.anchors].filter((n) => !session?.outputNames.includes(n));
  if (!session.inputNames.includes(SSD_IO.input) || missing.length > 0) {
    await session.dispose();
    throw new FerkitError(
      'E_MODEL',
      `${source}: not a ferkit SSD model (inputs [${session.inputNames}], outputs [${session.outputNames}]; expected input '${SSD_IO.input}' and outputs ${Object.values(SSD_IO).slice(1)})`,
    );
  }
  let anchors: Float32Array | null = null;
  return {
    name: 'ssd-mobilenetv1',
    async detect(image: RgbImage, detectOptions: SsdDetectOptions = {}): Promise<Detection[]> {
      const s = session;
      if (!s) throw new FerkitError('E_DISPOSED', 'SSD detector used after dispose()');
      resolveDetectOptions(detectOptions); // reject bad options before spending an inference on them
      const input = ssdInputTensor(image);
      const out = await s.run({ [SSD_IO.input]: { data: input, dims: [1, 3, SSD_INPUT_SIZE, SSD_INPUT_SIZE] } });
      anchors ??= out[SSD_IO.anchors].data.slice();
      return decodeSsdOutput(
        out[SSD_IO.boxes].data,
        out[SSD_IO.scores].data,
        anchors,
        image.width,
        image.height,
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
