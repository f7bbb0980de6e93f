/** Node: build the detector and landmark stages from their model files (converting face-api's on first use). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBlazeFaceModel, ensureFaceApiModels, ensureSsdModel } from '../convert/main.js';
import { createBlazeFaceDetector } from '../detect/blazeface.js';
import { createSsdDetector, type SsdPrecision } from '../detect/ssd.js';
import type { FaceDetector } from '../detect/types.js';
import { FerkitError } from '../errors.js';
import { DEFAULT_LANDMARK_KIND, DEFAULT_LANDMARK_MODEL, type LandmarkKind } from '../landmarks/default-model.js';
import { createLandmarkModel } from '../landmarks/landmark68.js';
import type { LandmarkModel } from '../landmarks/types.js';
import type { InferenceRuntime, SessionOptions } from '../runtime/types.js';
import { createDlibHogDetector } from './dlib-hog.js';
import { createDlibLandmarks } from './dlib-shape.js';
import { createHaarDetector, DEFAULT_HAAR_CASCADE_PATH } from './haar.js';
import { bundledModelDir } from './paths.js';

/**
 * 'blazeface' = MediaPipe's BlazeFace, back-camera model (default); 'cnn' = face-api's SSD
 * MobileNetV1 (int8 unless DetectorFiles.ssdPrecision says 'float'); 'haar' = OpenCV's Haar cascade;
 * 'dlib' = dlib's HOG detector.
 */
export type DetectorKind = 'cnn' | 'blazeface' | 'haar' | 'dlib';
export const DETECTOR_KINDS: readonly DetectorKind[] = ['blazeface', 'cnn', 'haar', 'dlib'];
/**
 * ferkit's default detector, chosen on AFW recall first, then time (`ferkit bench afw`, `ferkit bench
 * pipeline`; BENCHMARKS.md): BlazeFace finds 97.0 % of AFW's faces at IoU ≥ 0.5 against the int8
 * SSD's 92.9 %, in ~0.75x its time.
 */
export const DEFAULT_DETECTOR_KIND = 'blazeface' satisfies DetectorKind;
export { DEFAULT_LANDMARK_KIND, LANDMARK_KINDS, type LandmarkKind } from '../landmarks/default-model.js';
export const DEFAULT_CASCADE_PATH = DEFAULT_HAAR_CASCADE_PATH;

export interface DetectorFiles {
  /** Haar cascade XML (haar only). */
  cascadePath?: string;
  /** dlib only: times the image is upsampled before detecting (default 1, as dlib's `detector(img, 1)`). */
  dlibUpsample?: number;
  /** cnn only: the SSD build, 'int8' (default, SSD_DEFAULT_PRECISION) or 'float'. */
  ssdPrecision?: SsdPrecision;
}

export async function createFaceDetector(
  kind: DetectorKind,
  runtime: InferenceRuntime,
  session: SessionOptions,
  files: DetectorFiles = {},
): Promise<FaceDetector> {
  if (kind === 'haar') {
    const haar = await createHaarDetector({ cascadePath: files.cascadePath });
    return { name: 'haar', detect: (image, o) => haar.detect(image, o), dispose: () => haar.dispose() };
  }
  if (kind === 'dlib') return createDlibHogDetector({ upsample: files.dlibUpsample });
  if (kind === 'blazeface') {
    const files = await ensureBlazeFaceModel();
    return createBlazeFaceDetector(runtime, { model: await readFile(files.model), source: files.model, ...session });
  }
  const ssdModel = await ensureSsdModel(undefined, files.ssdPrecision);
  const ssd = await createSsdDetector(runtime, {
    model: await readFile(ssdModel.model),
    source: ssdModel.model,
    ...session,
  });
  return { name: 'ssd-mobilenetv1', detect: (image, o) => ssd.detect(image, o), dispose: () => ssd.dispose() };
}

export interface LandmarkFiles {
  /** dlib only: whose boxes come in, so they are mapped to dlib's box convention (default DEFAULT_DETECTOR_KIND). */
  detector?: DetectorKind;
  /** dlib only: the shape predictor file (default Debian libdlib-data's). */
  shapePredictorPath?: string;
}

export async function createLandmarks(
  runtime: InferenceRuntime,
  session: SessionOptions,
  kind: LandmarkKind = DEFAULT_LANDMARK_KIND,
  files: LandmarkFiles = {},
): Promise<LandmarkModel> {
  if (kind === 'dlib')
    return createDlibLandmarks({ path: files.shapePredictorPath, boxes: files.detector ?? DEFAULT_DETECTOR_KIND });
  // The networks take every detector's boxes as they are. (BlazeFace's are tighter than the SSD's
  // they were trained on, but a fitted mapping to the SSD's convention measured worse on AFW: mean
  // NME 0.0567 against 0.0562 unmapped, median 0.0517 against 0.0486.)
  if (kind === 'ferkit') {
    const path = bundledLandmarkModelPath();
    return createLandmarkModel(runtime, {
      model: await readModelFile(path),
      source: path,
      name: DEFAULT_LANDMARK_MODEL,
      ...session,
    });
  }
  const paths = await ensureFaceApiModels();
  return createLandmarkModel(runtime, {
    model: await readFile(paths.landmark68.model),
    source: paths.landmark68.model,
    name: 'face-landmark-68',
    ...session,
  });
}

/** models/ferkit-landmarks.onnx in the installed package. */
export function bundledLandmarkModelPath(): string {
  return join(bundledModelDir(), `${DEFAULT_LANDMARK_MODEL}.onnx`);
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new FerkitError('E_MODEL', `${path}: cannot read the landmark model (${(e as Error).message})`);
  }
}
