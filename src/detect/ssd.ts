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
 * S is the model's square input size: 512 for face-api's own network (results match face-api), or
 * any other size the converter built (ssd_mobilenetv1_<S>.onnx, same weights, priors regenerated for
 * the feature grids of S by src/convert/ssd-anchors.ts). The detector reads S from the model's
 * declared input shape. ferkit's default is SSD_DEFAULT_INPUT_SIZE, chosen by measurement: recall
 * against face-api's own 512 detections (test/ssd.test.ts) and on AFW (`ferkit bench afw --sizes`).
 *
 * This module is host-neutral: it only sees the InferenceRuntime interface and RgbImage.
 */
import { FerkitError } from '../errors.js';
import { nonMaxSuppression, squareInputTensor } from '../image/ops.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import type { Box, Detection, RgbImage } from '../types.js';
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
   * The model's square input size (its card's input.inputSize). Optional: it is read from the
   * model's declared input shape; when given it must agree (E_MODEL otherwise), and it is needed
   * only for a model whose input shape is symbolic.
   */
  inputSize?: number;
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
  /** The square input size the model runs at. */
  readonly inputSize: number;
  /** Faces in `image`, best first, boxes in the image's pixels. */
  detect(image: RgbImage, options?: SsdDetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

function resolveDetectOptions(options: SsdDetectOptions, inputSize: number): Required<SsdDetectOptions> {
  const o = {
    scoreThreshold: options.scoreThreshold ?? ssdDefaultScoreThreshold(inputSize),
    iouThreshold: options.iouThreshold ?? 0.3,
    maxFaces: options.maxFaces ?? 100,
    minFaceSize: options.minFaceSize ?? 0,
  };
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
 * face-api's input tensor for one image: planar RGB float32 [3, S, S] in 0..255 (S = inputSize,
 * default face-api's 512), the image zero-padded on the right/bottom to a square and resized with
 * TF's legacy bilinear mapping.
 */
export function ssdInputTensor(image: RgbImage, inputSize: number = SSD_INPUT_SIZE): Float32Array {
  return squareInputTensor(image, inputSize);
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
 * `encodings` and `anchors` are [A, 4]; `scores` is [A]; `inputSize` is the model's S.
 */
export function decodeSsdOutput(
  encodings: Float32Array,
  scores: Float32Array,
  anchors: Float32Array,
  imageWidth: number,
  imageHeight: number,
  options: SsdDetectOptions = {},
  inputSize: number = SSD_INPUT_SIZE,
): Detection[] {
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

  // locateFaces: the padded square covers S / round(side·S/maxSide) of the image per axis.
  const scale = inputSize / Math.max(imageWidth, imageHeight);
  const padX = inputSize / Math.round(imageWidth * scale);
  const padY = inputSize / Math.round(imageHeight * scale);
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

/**
 * The declared shape of graph input `inputName` in an ONNX model (ModelProto.graph.input), read
 * straight from the protobuf bytes: numbers for fixed dimensions, strings for symbolic ones. null
 * when the bytes are not a parsable model or have no such input. Host-neutral (no ONNX library).
 */
export function onnxInputShape(model: Uint8Array, inputName: string): (number | string)[] | null {
  type Field = { no: number; wire: number; value: number; start: number; end: number };
  const fields = (buf: Uint8Array, start: number, end: number): Field[] | null => {
    const out: Field[] = [];
    let p = start;
    const varint = (): number | null => {
      let v = 0;
      let mul = 1;
      for (let i = 0; i < 10; i++) {
        if (p >= end) return null;
        const b = buf[p++];
        v += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) return v;
      }
      return null;
    };
    while (p < end) {
      const key = varint();
      if (key === null) return null;
      const no = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) {
        const v = varint();
        if (v === null) return null;
        out.push({ no, wire, value: v, start: p, end: p });
      } else if (wire === 2) {
        const len = varint();
        if (len === null || p + len > end) return null;
        out.push({ no, wire, value: len, start: p, end: p + len });
        p += len;
      } else if (wire === 1 || wire === 5) {
        p += wire === 1 ? 8 : 4;
        if (p > end) return null;
      } else {
        return null;
      }
    }
    return out;
  };
  const sub = (buf: Uint8Array, f: Field) => fields(buf, f.start, f.end);
  const text = (f: Field) => new TextDecoder().decode(model.subarray(f.start, f.end));
  const top = fields(model, 0, model.length);
  const graph = top?.find((f) => f.no === 7 && f.wire === 2);
  if (!graph) return null;
  for (const f of sub(model, graph) ?? []) {
    if (f.no !== 11 || f.wire !== 2) continue; // ValueInfoProto input
    const info = sub(model, f);
    const name = info?.find((x) => x.no === 1 && x.wire === 2);
    if (!info || !name || text(name) !== inputName) continue;
    const type = info.find((x) => x.no === 2 && x.wire === 2);
    const tensor = type && sub(model, type)?.find((x) => x.no === 1 && x.wire === 2);
    const shape = tensor && sub(model, tensor)?.find((x) => x.no === 2 && x.wire === 2);
    if (!shape) return null;
    const dims: (number | string)[] = [];
    for (const d of sub(model, shape) ?? []) {
      if (d.no !== 1 || d.wire !== 2) continue;
      const dim = sub(model, d) ?? [];
      const value = dim.find((x) => x.no === 1 && x.wire === 0);
      const param = dim.find((x) => x.no === 2 && x.wire === 2);
      dims.push(value ? value.value : param ? text(param) : '?');
    }
    return dims;
  }
  return null;
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
  // The input size: the model's declared [N, 3, S, S], checked against options.inputSize if given.
  const shape = onnxInputShape(options.model, SSD_IO.input);
  const declared =
    shape && shape.length === 4 && typeof shape[2] === 'number' && shape[2] === shape[3] ? shape[2] : null;
  const wanted = options.inputSize;
  let inputSize: number;
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted > 0)) {
    await session.dispose();
    throw new FerkitError('E_INPUT', `SSD detector: inputSize must be a positive integer, got ${wanted}`);
  } else if (declared !== null && wanted !== undefined && declared !== wanted) {
    await session.dispose();
    throw new FerkitError(
      'E_MODEL',
      `${source}: model input is ${declared}x${declared}, but inputSize ${wanted} was given`,
    );
  } else if (declared !== null || wanted !== undefined) {
    inputSize = (declared ?? wanted) as number;
  } else {
    await session.dispose();
    throw new FerkitError(
      'E_MODEL',
      `${source}: cannot tell the SSD input size (input shape ${shape ? `[${shape}]` : 'unreadable'}); pass inputSize`,
    );
  }
  let anchors: Float32Array | null = null;
  return {
    name: 'ssd-mobilenetv1',
    inputSize,
    async detect(image: RgbImage, detectOptions: SsdDetectOptions = {}): Promise<Detection[]> {
      const s = session;
      if (!s) throw new FerkitError('E_DISPOSED', 'SSD detector used after dispose()');
      resolveDetectOptions(detectOptions, inputSize); // reject bad options before spending an inference on them
      const input = ssdInputTensor(image, inputSize);
      const out = await s.run({ [SSD_IO.input]: { data: input, dims: [1, 3, inputSize, inputSize] } });
      anchors ??= out[SSD_IO.anchors].data.slice();
      return decodeSsdOutput(
        out[SSD_IO.boxes].data,
        out[SSD_IO.scores].data,
        anchors,
        image.width,
        image.height,
        detectOptions,
        inputSize,
      );
    },
    async dispose() {
      const s = session;
      session = null;
      await s?.dispose();
    },
  };
}
