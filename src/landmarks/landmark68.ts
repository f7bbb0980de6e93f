/**
 * 68-point facial landmarks (iBUG 300-W order) with a FaceLandmark68Net-contract model: ferkit's own
 * (models/ferkit-landmarks.onnx, trained by training/ferkit_train/landmarks/ on exactly this crop) or
 * face-api's, converted to ONNX by src/convert/faceapi-landmarks.ts.
 *
 * The face crop and the mapping back reproduce what face-api does for
 * `detectAllFaces(tensor).withFaceLandmarks()` (globalApi/DetectFaceLandmarksTasks.ts,
 * dom/extractFaceTensors.ts, faceLandmarkNet/FaceLandmark68NetBase.ts), so points match it:
 *   1. crop — Box.clipAtImageBorders(): clip the box to the image, then FLOOR x, y, width and height
 *      independently; a box with no pixels left yields no landmarks;
 *   2. pad — padToSquare(crop, centred): the shorter side gets round(diff/2) zero columns/rows
 *      appended and the rest (diff − round(diff/2)) prepended;
 *   3. resize — tf.image.resizeBilinear to 112x112 with TF's legacy mapping (resampleBilinearTfPlanar);
 *   4. map back — postProcess(): p·112 minus HALF the padding in 112-px units (|w−h|/2·scale, not the
 *      rounded pixel count of step 2: a face-api quirk of up to half a crop pixel, kept for parity),
 *      divided by the scaled crop size, times the crop size, plus the box origin. face-api
 *      (extendWithFaceLandmarks) adds the box's unfloored x, y although the crop starts at the floored
 *      ones — a sub-pixel offset we keep for parity — but it also adds them UNCLIPPED, which for a box
 *      starting left of or above the image shifts every point by that overhang. Its own detector
 *      never produces such boxes (they are clipped at 0); ferkit accepts boxes from anywhere, so it
 *      adds the clipped origin max(x, 0), max(y, 0): identical to face-api whenever x, y ≥ 0.
 */
import { FerkitError } from '../errors.js';
import { resampleBilinearTfPlanar } from '../image/resample-exact.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import type { Box, Point, RgbImage } from '../types.js';
import type { LandmarkModel } from './types.js';

export type { LandmarkModel } from './types.js';

/** Side of the square network input. */
export const LANDMARK_INPUT_SIZE = 112;
/** Tensor names of the converted model (the contract between converter and this stage). */
export const LANDMARK_IO = { input: 'input', output: 'landmarks' } as const;
export const LANDMARK_COUNT = 68;

export interface LandmarkModelOptions {
  /** The ONNX model bytes (models/ferkit-landmarks.onnx, or face_landmark_68.onnx from ensureFaceApiModels()). */
  model: Uint8Array;
  /** Names the model in error messages (a path or an id). */
  source?: string;
  /** The returned model's `name` (default 'face-landmark-68', face-api's). */
  name?: string;
  /** Intra-op threads; 0 lets the engine choose. */
  threads?: number;
  /** Faces per inference batch (memory bound: 150 KB of input per face). Default 32. */
  maxBatch?: number;
}

/** The integer crop face-api takes for a box (Box.clipAtImageBorders, which floors all four values). */
export function landmarkCrop(box: Box, imageWidth: number, imageHeight: number): Box {
  const x = Math.max(box.x, 0);
  const y = Math.max(box.y, 0);
  const width = Math.min(box.x + box.width - x, imageWidth - x);
  const height = Math.min(box.y + box.height - y, imageHeight - y);
  return { x: Math.floor(x), y: Math.floor(y), width: Math.floor(width), height: Math.floor(height) };
}

/** Writes one face's network input ([3, 112, 112], 0..255) for an integer crop at `offset` of `out`. */
export function landmarkInputTensor(image: RgbImage, crop: Box, out: Float32Array, offset = 0): void {
  const side = Math.max(crop.width, crop.height);
  const diff = Math.abs(crop.width - crop.height);
  const prepend = diff - Math.round(diff * 0.5); // padToSquare(isCenterImage = true): the append side gets round(diff/2)
  resampleBilinearTfPlanar(
    image,
    crop,
    {
      width: side,
      height: side,
      offsetX: crop.height > crop.width ? prepend : 0,
      offsetY: crop.width > crop.height ? prepend : 0,
    },
    LANDMARK_INPUT_SIZE,
    LANDMARK_INPUT_SIZE,
    out,
    offset,
  );
}

/** Maps one face's 136 network outputs to image points (step 4 above); `box` is the box the crop came from. */
export function landmarkPoints(output: Float32Array, crop: Box, box: Box): Point[] {
  const originX = Math.max(box.x, 0);
  const originY = Math.max(box.y, 0);
  const scale = LANDMARK_INPUT_SIZE / Math.max(crop.width, crop.height);
  const w = crop.width * scale;
  const h = crop.height * scale;
  const padX = w < h ? Math.abs(w - h) / 2 : 0;
  const padY = h < w ? Math.abs(w - h) / 2 : 0;
  const points: Point[] = [];
  for (let k = 0; k < LANDMARK_COUNT; k++) {
    const rx = (output[2 * k] * LANDMARK_INPUT_SIZE - padX) / w;
    const ry = (output[2 * k + 1] * LANDMARK_INPUT_SIZE - padY) / h;
    points.push([rx * crop.width + originX, ry * crop.height + originY]);
  }
  return points;
}

/**
 * Loads the converted landmark model; the returned model owns its session until dispose().
 * `detect(image, boxes)` gives 68 [x, y] points per box in image pixels, iBUG order, result[i] for
 * boxes[i], batched over faces; a box that does not overlap the image gets an empty array.
 */
export async function createLandmarkModel(
  runtime: InferenceRuntime,
  options: LandmarkModelOptions,
): Promise<LandmarkModel> {
  const source = options.source ?? 'face_landmark_68.onnx';
  const maxBatch = options.maxBatch ?? 32;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new FerkitError('E_INPUT', `landmarks: maxBatch must be a positive integer, got ${maxBatch}`);
  }
  let session: ModelSession | null = await runtime.createSession(options.model, source, { threads: options.threads });
  if (!session.inputNames.includes(LANDMARK_IO.input) || !session.outputNames.includes(LANDMARK_IO.output)) {
    const { inputNames, outputNames } = session;
    await session.dispose();
    throw new FerkitError(
      'E_MODEL',
      `${source}: not a ferkit landmark model (inputs [${inputNames}], outputs [${outputNames}]; expected '${LANDMARK_IO.input}' → '${LANDMARK_IO.output}')`,
    );
  }
  const plane = 3 * LANDMARK_INPUT_SIZE * LANDMARK_INPUT_SIZE;
  return {
    name: options.name ?? 'face-landmark-68',
    async detect(image: RgbImage, boxes: readonly Box[]): Promise<Point[][]> {
      const s = session;
      if (!s) throw new FerkitError('E_DISPOSED', 'landmark model used after dispose()');
      const { width, height, data } = image ?? {};
      if (
        !Number.isInteger(width) ||
        !Number.isInteger(height) ||
        width <= 0 ||
        height <= 0 ||
        data?.length !== width * height * 3
      ) {
        throw new FerkitError('E_INPUT', `image: expected positive integer size and width·height·3 RGB bytes`);
      }
      for (const b of boxes) {
        if (![b?.x, b?.y, b?.width, b?.height].every(Number.isFinite)) {
          throw new FerkitError('E_INPUT', `landmarks: box ${JSON.stringify(b)} is not finite`);
        }
      }
      const result: Point[][] = boxes.map(() => []);
      const faces = boxes
        .map((box, index) => ({ box, index, crop: landmarkCrop(box, width, height) }))
        .filter((f) => f.crop.width > 0 && f.crop.height > 0);
      for (let start = 0; start < faces.length; start += maxBatch) {
        const batch = faces.slice(start, start + maxBatch);
        const input = new Float32Array(batch.length * plane);
        for (const [i, f] of batch.entries()) landmarkInputTensor(image, f.crop, input, i * plane);
        const out = await s.run({
          [LANDMARK_IO.input]: { data: input, dims: [batch.length, 3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE] },
        });
        const raw = out[LANDMARK_IO.output].data;
        batch.forEach((f, i) => {
          result[f.index] = landmarkPoints(raw.subarray(i * 136, (i + 1) * 136), f.crop, f.box);
        });
      }
      return result;
    },
    async dispose() {
      const s = session;
      session = null;
      await s?.dispose();
    },
  };
}
