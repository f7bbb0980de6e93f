/** Node: build the detector and landmark stages from the converted models (converting on first use). */
import { readFile } from 'node:fs/promises';
import { ensureFaceApiModels } from '../convert/main.js';
import { createSsdDetector } from '../detect/ssd.js';
import type { FaceDetector } from '../detect/types.js';
import { createLandmarkModel } from '../landmarks/landmark68.js';
import type { LandmarkModel } from '../landmarks/types.js';
import type { InferenceRuntime, SessionOptions } from '../runtime/types.js';
import { createHaarDetector, DEFAULT_HAAR_CASCADE_PATH } from './haar.js';

export type DetectorKind = 'cnn' | 'haar';
export const DEFAULT_CASCADE_PATH = DEFAULT_HAAR_CASCADE_PATH;

export async function createFaceDetector(
  kind: DetectorKind,
  runtime: InferenceRuntime,
  session: SessionOptions,
  cascadePath?: string,
): Promise<FaceDetector> {
  if (kind === 'haar') {
    const haar = await createHaarDetector({ cascadePath });
    return { name: 'haar', detect: (image, o) => haar.detect(image, o), dispose: () => haar.dispose() };
  }
  const paths = await ensureFaceApiModels();
  const ssd = await createSsdDetector(runtime, {
    model: await readFile(paths.ssd.model),
    source: paths.ssd.model,
    ...session,
  });
  return { name: 'ssd-mobilenetv1', detect: (image, o) => ssd.detect(image, o), dispose: () => ssd.dispose() };
}

export async function createLandmarks(runtime: InferenceRuntime, session: SessionOptions): Promise<LandmarkModel> {
  const paths = await ensureFaceApiModels();
  const model = await createLandmarkModel(runtime, {
    model: await readFile(paths.landmark68.model),
    source: paths.landmark68.model,
    ...session,
  });
  return {
    name: 'face-landmark-68',
    detect: (image, boxes) => model.detect(image, boxes),
    dispose: () => model.dispose(),
  };
}
