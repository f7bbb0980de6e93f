/**
 * Converts face-api's pretrained SSD MobileNetV1 and FaceLandmark68Net (tfjs weights shipped in
 * the @vladmandic/face-api package) into ONNX models plus JSON cards, in a model cache folder.
 *
 * `npm run models` runs this file (dist/convert/main.js [dir]); the library calls
 * ensureFaceApiModels() so it also works when that step was skipped: conversion then happens once,
 * lazily, on first use (about a second), and later calls only verify the cache.
 *
 * Cache folder: `dir` argument, else env FERKIT_MODEL_CACHE, else `<package root>/.cache/models/`.
 * A model is up to date when its card records the current converter version and the sha256 of the
 * face-api source files, and the .onnx file still has the sha256 the card records. Files are
 * written to a temporary name and renamed, model first and card last, so a crash or a concurrent
 * process never leaves a card that vouches for a half-written model.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SSD_INPUT_SIZE, SSD_IO, SSD_NUM_ANCHORS } from '../detect/ssd.js';
import { FerkitError } from '../errors.js';
import { LANDMARK_INPUT_SIZE, LANDMARK_IO } from '../landmarks/landmark68.js';
import { buildFaceApiLandmark68Onnx, LANDMARK_MEAN_RGB } from './faceapi-landmarks.js';
import { buildFaceApiSsdOnnx } from './faceapi-ssd.js';
import { hashFaceApiWeights, readFaceApiWeights, type WeightMap } from './faceapi-weights.js';

/** Bump when a converter's output changes, so cached models are rebuilt. */
export const CONVERTER_VERSION = 1;

export interface ModelFiles {
  /** The .onnx file. */
  model: string;
  /** The JSON card next to it (input contract, outputs, provenance). */
  card: string;
}

export interface FaceApiModelPaths {
  dir: string;
  ssd: ModelFiles;
  landmark68: ModelFiles;
}

export interface EnsureOptions {
  /** Folder holding face-api's `*-weights_manifest.json` + `.bin` (default: the installed package's model/). */
  sourceDir?: string;
  /** Convert even if the cache looks up to date. */
  force?: boolean;
  /** Progress messages (the CLI prints them). */
  log?: (message: string) => void;
}

export interface ModelCard {
  format: 'ferkit-model-card/1';
  id: string;
  file: string;
  sha256: string;
  bytes: number;
  description: string;
  license: string;
  converter: { file: string; version: number };
  source: { package: string; version: string; manifest: string; sha256: string };
  input: {
    name: string;
    shape: (number | string)[];
    dtype: 'float32';
    layout: 'NCHW';
    channelOrder: 'RGB';
    pixelRange: [number, number];
    inputSize: number;
    normalisationInGraph: string;
    preprocessing: string;
  };
  outputs: { name: string; shape: (number | string)[]; description: string }[];
  postprocessing: string;
}

interface ModelSpec {
  id: string;
  file: string;
  manifest: string;
  converterFile: string;
  build(weights: WeightMap, source: string): Uint8Array;
  card: Omit<ModelCard, 'format' | 'id' | 'file' | 'sha256' | 'bytes' | 'converter' | 'source'>;
}

const SPECS: { ssd: ModelSpec; landmark68: ModelSpec } = {
  ssd: {
    id: 'faceapi-ssd-mobilenetv1',
    file: 'ssd_mobilenetv1.onnx',
    manifest: 'ssd_mobilenetv1_model-weights_manifest.json',
    converterFile: 'src/convert/faceapi-ssd.ts',
    build: buildFaceApiSsdOnnx,
    card: {
      description: "face-api's SSD MobileNetV1 face detector (WIDERFACE-trained), convolutional part only",
      license: 'MIT (weights from @vladmandic/face-api / justadudewhohacks/face-api.js)',
      input: {
        name: SSD_IO.input,
        shape: ['N', 3, SSD_INPUT_SIZE, SSD_INPUT_SIZE],
        dtype: 'float32',
        layout: 'NCHW',
        channelOrder: 'RGB',
        pixelRange: [0, 255],
        inputSize: SSD_INPUT_SIZE,
        normalisationInGraph: 'x / 127.5 - 1',
        preprocessing:
          'zero-pad the image on the right or bottom to a square (not centred), then bilinear-resize to 512x512 ' +
          'with TF legacy sampling (align_corners=false, half_pixel_centers=false): ssdInputTensor() in src/detect/ssd.ts',
      },
      outputs: [
        {
          name: SSD_IO.boxes,
          shape: ['N', SSD_NUM_ANCHORS, 4],
          description: 'box encodings (ty, tx, th, tw) per anchor',
        },
        { name: SSD_IO.scores, shape: ['N', SSD_NUM_ANCHORS], description: 'face score: sigmoid of class 1 logit' },
        {
          name: SSD_IO.anchors,
          shape: [SSD_NUM_ANCHORS, 4],
          description: 'constant priors [ymin, xmin, ymax, xmax] in the padded unit square (face-api Output/extra_dim)',
        },
      ],
      postprocessing:
        'SSD decode (centre scale 10, size scale 5), score > threshold, greedy NMS, clip to unit square, ' +
        'scale by 512/round(side*512/maxSide): decodeSsdOutput() in src/detect/ssd.ts',
    },
  },
  landmark68: {
    id: 'faceapi-landmark68',
    file: 'face_landmark_68.onnx',
    manifest: 'face_landmark_68_model-weights_manifest.json',
    converterFile: 'src/convert/faceapi-landmarks.ts',
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

function faceApiPackage(): { dir: string; version: string } {
  try {
    const pkgJson = createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json');
    const version = (createRequire(import.meta.url)(pkgJson) as { version: string }).version;
    return { dir: dirname(pkgJson), version };
  } catch (e) {
    throw new FerkitError(
      'E_MODEL',
      '@vladmandic/face-api is not installed: its weights are needed to build the models',
      {
        cause: e,
      },
    );
  }
}

/** The installed face-api package's model/ folder (source of the conversion). */
export function faceApiWeightsDir(): string {
  return join(faceApiPackage().dir, 'model');
}

async function sha256File(path: string): Promise<string | null> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return null;
  }
}

async function readCard(path: string): Promise<ModelCard | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ModelCard;
  } catch {
    return null;
  }
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function ensureModel(
  spec: ModelSpec,
  dir: string,
  options: EnsureOptions & { sourceDir: string },
): Promise<ModelFiles> {
  const files = { model: join(dir, spec.file), card: join(dir, spec.file.replace(/\.onnx$/, '.json')) };
  const manifestPath = join(options.sourceDir, spec.manifest);
  const sourceSha = await hashFaceApiWeights(manifestPath);
  const card = await readCard(files.card);
  if (
    !options.force &&
    card?.converter?.version === CONVERTER_VERSION &&
    card.source?.sha256 === sourceSha &&
    card.sha256 === (await sha256File(files.model))
  ) {
    return files;
  }
  options.log?.(`converting ${manifestPath} → ${files.model}`);
  const weights = await readFaceApiWeights(manifestPath);
  const onnx = spec.build(weights.tensors, manifestPath);
  const newCard: ModelCard = {
    format: 'ferkit-model-card/1',
    id: spec.id,
    file: spec.file,
    sha256: createHash('sha256').update(onnx).digest('hex'),
    bytes: onnx.length,
    ...spec.card,
    converter: { file: spec.converterFile, version: CONVERTER_VERSION },
    source: {
      package: '@vladmandic/face-api',
      version: options.sourceDir === faceApiWeightsDir() ? faceApiPackage().version : 'custom',
      manifest: basename(manifestPath),
      sha256: weights.sha256,
    },
  };
  await mkdir(dir, { recursive: true });
  await writeAtomic(files.model, onnx);
  await writeAtomic(files.card, `${JSON.stringify(newCard, null, 2)}\n`);
  return files;
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
  const key = `${target}\n${sourceDir}`;
  const running = pending.get(key);
  if (running && !options.force) return running;
  const work = (async () => {
    const opts = { ...options, sourceDir };
    const ssd = await ensureModel(SPECS.ssd, target, opts);
    const landmark68 = await ensureModel(SPECS.landmark68, target, opts);
    return { dir: target, ssd, landmark68 };
  })();
  pending.set(key, work);
  // Forget failures (and finished runs: a later call re-verifies the files on disk, which is cheap).
  work.then(
    () => pending.delete(key),
    () => pending.delete(key),
  );
  return work;
}

/** CLI: `node dist/convert/main.js [dir] [--force]`. */
async function cli(argv: string[]): Promise<number> {
  const force = argv.includes('--force');
  const dir = argv.find((a) => !a.startsWith('--'));
  try {
    const t0 = performance.now();
    const paths = await ensureFaceApiModels(dir, { force, log: (m) => console.log(m) });
    console.log(`models ready in ${paths.dir} (${Math.round(performance.now() - t0)} ms)`);
    for (const f of [paths.ssd, paths.landmark68]) console.log(`  ${f.model}\n  ${f.card}`);
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
