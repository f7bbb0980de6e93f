/**
 * Face detection with face-api's SSD MobileNetV1, converted to ONNX by src/convert/faceapi-ssd.ts.
 *
 * The network is only the convolutional part; everything face-api does around it is reproduced
 * here in TypeScript so that results match face-api's `detectAllFaces(input, SsdMobilenetv1Options)`:
 *   1. pre-processing — NetInput.toBatchTensor(512, false): pad the image with zeros on the right
 *      or bottom to a square (NOT centred), then tf.image.resizeBilinear to S x S with
 *      alignCorners = false and halfPixelCenters = false (see resampleBilinearTfPlanar);
 *   2. box decoding — outputLayer.ts: SSD centre/size decoding against the model's priors with
 *      scale factors 10 (centres) and 5 (log sizes);
 *   3. selection — nonMaxSuppression.ts: keep scores strictly above the threshold, greedy NMS on the
 *      unclipped boxes (a box survives if its IoU with every kept box is ≤ iouThreshold), at most
 *      maxFaces;
 *   4. mapping back — SsdMobilenetv1.locateFaces: clip to the unit square, scale by
 *      S / round(side · S / max(width, height)) per axis, multiply by the image size.
 *
 * S is the input size: 512 for face-api's own network (results match face-api), or any other (same
 * weights, priors regenerated for the feature grids by src/detect/ssd-anchors.ts). The converted
 * graph has symbolic H × W; its nominal S (ssd_mobilenetv1_<S>.onnx, metadata 'ferkit.ssd.input_size')
 * is the detector's default. ferkit's default is SSD_DEFAULT_INPUT_SIZE, chosen by measurement:
 * recall against face-api's own 512 detections (test/ssd.test.ts) and on AFW (`ferkit bench afw --sizes`).
 *
 * 'fit' (default): instead of step 1's padded square, the input keeps the image's aspect ratio —
 * longer side S, shorter side padded to a multiple of 16 — so a landscape photo or video frame does
 * not spend a third of the detector's work on padding; boxes map back exactly through the padded
 * canvas (ssdInputShape). Same faces as the square (test/ssd.test.ts), ~20–35% less time.
 *
 * This module is host-neutral: it only sees the InferenceRuntime interface and RgbImage.
 */
import { FerkitError } from '../errors.js';
import {
  type DetectorInputGeometry,
  detectorInputGeometry,
  paddedInputTensor,
  squareInputTensor,
} from '../image/detector-input.js';
import { nonMaxSuppression } from '../image/ops.js';
import { imageInputContract } from '../runtime/onnx-model-info.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import type { Box, Detection, RgbImage } from '../types.js';
import { validateDetectOptions } from './detect-options.js';
import { generateSsdAnchors } from './ssd-anchors.js';
import type { DetectOptions, FaceDetector } from './types.js';

/** Side of face-api's own square network input (its NetInput.toBatchTensor(512)). */
export const SSD_INPUT_SIZE = 512;
/** Number of face-api's priors at 512 (3·32² + 6·(16² + 8² + 4² + 2² + 1²)). */
export const SSD_NUM_ANCHORS = 5118;
/**
 * ferkit's default input size: ensureFaceApiModels() builds this one, and createFaceDetector uses it.
 * Chosen by measurement (recall vs face-api-at-512 on its demo photos and on AFW, and speed).
 */
export const SSD_DEFAULT_INPUT_SIZE = 320;

/**
 * Default score threshold for a model of input size S: face-api's 0.5 at 512 (and above); 0.3 below.
 * A smaller input shows every face with fewer pixels, and the network's scores for small faces drop
 * (on face-api's demo photos at 800 px, the weakest face-api face scores 0.38 at S = 320 against
 * 0.62 at 512), while boxes stay accurate. Measured at S = 320: score > 0.3 finds all 22 faces
 * face-api finds at 512 and 94.4% of AFW's faces at IoU ≥ 0.5 (face-api at 512, score > 0.5: 92.3%).
 */
export function ssdDefaultScoreThreshold(inputSize: number): number {
  return inputSize >= SSD_INPUT_SIZE ? 0.5 : 0.3;
}
/**
 * The converter's two builds of the SSD: 'float' (the tfjs weights as they are) and 'int8' (static
 * QDQ quantization, src/convert/faceapi-ssd-int8.ts: ~2x faster on CPUs with VNNI, same faces).
 */
export type SsdPrecision = 'float' | 'int8';
export const SSD_PRECISIONS: readonly SsdPrecision[] = ['int8', 'float'];
/** ferkit's default detector build (createFaceDetector 'cnn', the browser analyzer's default model). */
export const SSD_DEFAULT_PRECISION: SsdPrecision = 'int8';

/** File name of the converter's SSD model for one input size and precision. */
export function ssdModelFile(inputSize: number, precision: SsdPrecision = 'float'): string {
  return `ssd_mobilenetv1_${inputSize}${precision === 'int8' ? '_int8' : ''}.onnx`;
}

/** Tensor names of the converted model (the contract between converter and this stage). */
export const SSD_IO = { input: 'input', boxes: 'boxes', scores: 'scores', anchors: 'anchors' } as const;

export interface SsdDetectorOptions {
  /** The ONNX model bytes (ssd_mobilenetv1_<size>.onnx from ensureFaceApiModels()). */
  model: Uint8Array;
  /** Names the model in error messages (a path or an id). */
  source?: string;
  /** Intra-op threads; 0 lets the engine choose. */
  threads?: number;
  /**
   * The input size S: the longer side of the detector input. Default: the model's (its declared
   * [N, 3, S, S], or for the converter's models with symbolic H × W its metadata
   * 'ferkit.ssd.input_size', the card's input.inputSize). A model with a fixed input shape only runs
   * at its own size (another value is E_MODEL); one with symbolic H × W runs at any S.
   */
  inputSize?: number;
  /**
   * Run at the image's aspect ratio (default true): the longer side at S, the shorter one padded to
   * the next multiple of 16 (a 3:2 photo at S = 320 runs at 320 × 224, ~30% less work than the
   * padded square). false: face-api's padded S × S square (results match face-api's). Models with a
   * fixed input shape always run square.
   */
  fit?: boolean;
}

export interface SsdDetectOptions extends DetectOptions {
  /**
   * Minimum face score, exclusive (face-api's minConfidence). Default ssdDefaultScoreThreshold(S):
   * 0.5 (face-api's) for a 512 model, 0.3 for smaller ones.
   */
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
  /** The input size S the model runs at (the longer side of its input). */
  readonly inputSize: number;
  /** Whether inputs follow the image's aspect ratio (see SsdDetectorOptions.fit). */
  readonly fit: boolean;
  /** Faces in `image`, best first, boxes in the image's pixels. */
  detect(image: RgbImage, options?: SsdDetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

function resolveDetectOptions(options: SsdDetectOptions, inputSize: number): Required<SsdDetectOptions> {
  return validateDetectOptions({
    scoreThreshold: options.scoreThreshold ?? ssdDefaultScoreThreshold(inputSize),
    iouThreshold: options.iouThreshold ?? 0.3,
    maxFaces: options.maxFaces ?? 100,
    minFaceSize: options.minFaceSize ?? 0,
  });
}

/**
 * face-api's input tensor for one image: planar RGB float32 [3, S, S] in 0..255 (S = inputSize,
 * default face-api's 512), the image zero-padded on the right/bottom to a square and resized with
 * TF's legacy bilinear mapping.
 */
export function ssdInputTensor(image: RgbImage, inputSize: number = SSD_INPUT_SIZE): Float32Array {
  return squareInputTensor(image, inputSize);
}

/**
 * Multiple the shorter side of a 'fit' input is padded to: the stride of the first prediction head,
 * so its grid covers the input exactly (640 × 480 video runs at 320 × 240; deeper grids round up
 * with TF 'same' padding, which the anchor generator models).
 */
export const SSD_FIT_MULTIPLE = 16;

/**
 * The detector input for an image: face-api's padded S × S square, or with `fit` the image's aspect
 * ratio: the longer side scaled to S, the shorter one to the next multiple of SSD_FIT_MULTIPLE (at most S).
 */
export function ssdInputShape(
  imageWidth: number,
  imageHeight: number,
  inputSize: number,
  fit: boolean,
): DetectorInputGeometry {
  return detectorInputGeometry({ width: imageWidth, height: imageHeight }, inputSize, fit, SSD_FIT_MULTIPLE);
}

/**
 * Decodes anchor `i` (outputLayer.ts decodeBoxesLayer): anchors and encodings are [A, 4] with
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
 * `encodings` and `anchors` are [A, 4]; `scores` is [A]. `input` is the model's S for face-api's
 * square input (mapped back with face-api's own formula), or the geometry of the input that ran
 * (ssdInputShape: the unit square maps exactly onto its padded canvas).
 */
export function decodeSsdOutput(
  encodings: Float32Array,
  scores: Float32Array,
  anchors: Float32Array,
  imageWidth: number,
  imageHeight: number,
  options: SsdDetectOptions = {},
  input: number | DetectorInputGeometry = SSD_INPUT_SIZE,
): Detection[] {
  const inputSize = typeof input === 'number' ? input : Math.max(input.width, input.height);
  const { scoreThreshold, iouThreshold, maxFaces, minFaceSize } = resolveDetectOptions(options, inputSize);
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > scoreThreshold) candidates.push(i);

  const unit = candidates.map((i) => decodeSsdBox(encodings, anchors, i));
  // NMS on the unclipped unit-square boxes, as face-api does (IoU is scale-invariant, clipping is not).
  const kept = nonMaxSuppression(
    unit,
    candidates.map((i) => scores[i]),
    iouThreshold,
  );

  // Unit square → image pixels. face-api's locateFaces: the padded square covers
  // S / round(side·S/maxSide) of the image per axis; a geometry maps onto its canvas exactly.
  let toX: number;
  let toY: number;
  if (typeof input === 'number') {
    const scale = inputSize / Math.max(imageWidth, imageHeight);
    toX = (inputSize / Math.round(imageWidth * scale)) * imageWidth;
    toY = (inputSize / Math.round(imageHeight * scale)) * imageHeight;
  } else {
    toX = input.canvasWidth;
    toY = input.canvasHeight;
  }
  const detections: Detection[] = [];
  for (const k of kept) {
    const b = unit[k];
    const left = Math.max(0, b.x) * toX;
    const right = Math.min(1, b.x + b.width) * toX;
    const top = Math.max(0, b.y) * toY;
    const bottom = Math.min(1, b.y + b.height) * toY;
    const box = { x: left, y: top, width: right - left, height: bottom - top };
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
  // The input size: a fixed declared [N, 3, S, S] is binding; symbolic H × W runs at any S
  // (default: the converter's metadata).
  const { shape, declared, dynamic, nominal } = imageInputContract(
    options.model,
    SSD_IO.input,
    'ferkit.ssd.input_size',
  );
  const wanted = options.inputSize;
  const fail = async (code: 'E_INPUT' | 'E_MODEL', message: string) => {
    await session?.dispose();
    return new FerkitError(code, message);
  };
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= SSD_FIT_MULTIPLE)) {
    throw await fail('E_INPUT', `SSD detector: inputSize must be an integer ≥ ${SSD_FIT_MULTIPLE}, got ${wanted}`);
  }
  if (declared !== null && wanted !== undefined && declared !== wanted) {
    throw await fail(
      'E_MODEL',
      `${source}: model input is fixed at ${declared}x${declared}, but inputSize ${wanted} was given`,
    );
  }
  const inputSize = wanted ?? declared ?? nominal;
  if (inputSize === undefined) {
    throw await fail(
      'E_MODEL',
      `${source}: cannot tell the SSD input size (input shape ${shape ? `[${shape}]` : 'unreadable'}, no ferkit.ssd.input_size metadata); pass inputSize`,
    );
  }
  const fit = dynamic && (options.fit ?? true);
  // Priors per input shape: the model's own table for its nominal square (face-api's, bit for bit,
  // at 512), generated ones (src/detect/ssd-anchors.ts) for every other shape.
  const anchorsByShape = new Map<string, Float32Array>();
  return {
    name: 'ssd-mobilenetv1',
    inputSize,
    fit,
    async detect(image: RgbImage, detectOptions: SsdDetectOptions = {}): Promise<Detection[]> {
      const s = session;
      if (!s) throw new FerkitError('E_DISPOSED', 'SSD detector used after dispose()');
      resolveDetectOptions(detectOptions, inputSize); // reject bad options before spending an inference on them
      const geometry = ssdInputShape(image.width, image.height, inputSize, fit);
      const { width, height } = geometry;
      const input = paddedInputTensor(image, geometry);
      const out = await s.run({ [SSD_IO.input]: { data: input, dims: [1, 3, height, width] } });
      const key = `${height}x${width}`;
      let anchors = anchorsByShape.get(key);
      if (!anchors) {
        anchors =
          height === width && height === (declared ?? nominal)
            ? out[SSD_IO.anchors].data.slice()
            : generateSsdAnchors({ height, width });
        anchorsByShape.set(key, anchors);
      }
      return decodeSsdOutput(
        out[SSD_IO.boxes].data,
        out[SSD_IO.scores].data,
        anchors,
        image.width,
        image.height,
        detectOptions,
        fit ? geometry : inputSize,
      );
    },
    async dispose() {
      const s = session;
      session = null;
      await s?.dispose();
    },
  };
}
