/**
 * face-api (@vladmandic/face-api) as a peer for side-by-side benchmarks, on its node-wasm build
 * (its native tfjs-node backend cannot install offline). Dev dependencies only.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RgbImage } from '../types.js';
import { loadTfjs } from './peer-models.js';

const require = createRequire(import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: face-api ships no types for its node-wasm bundle we can import here
export type FaceApi = any;

export interface FaceApiPeer {
  faceapi: FaceApi;
  backend: string;
  /** detectAllFaces(SSD, minConfidence) + 68 landmarks + expressions, like ferkit's pipeline. */
  analyze(image: RgbImage, minConfidence?: number): Promise<FaceApiFace[]>;
}

export interface FaceApiFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: [number, number][];
  expressions: Record<string, number>;
}

export async function loadFaceApiPeer(): Promise<FaceApiPeer> {
  const { tf } = await loadTfjs('wasm');
  const faceapi: FaceApi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
  return {
    faceapi,
    backend: `tfjs ${tf.version_core} ${faceapi.tf.getBackend()}`,
    async analyze(image, minConfidence = 0.5) {
      const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        const options = new faceapi.SsdMobilenetv1Options({ minConfidence, maxResults: 100 });
        const results = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceExpressions();
        return results.map((r: FaceApi) => ({
          box: {
            x: r.detection.box.x,
            y: r.detection.box.y,
            width: r.detection.box.width,
            height: r.detection.box.height,
          },
          score: r.detection.score,
          landmarks: r.landmarks.positions.map((p: FaceApi) => [p.x, p.y]),
          expressions: { ...r.expressions },
        }));
      } finally {
        tf.dispose(tensor);
      }
    },
  };
}
