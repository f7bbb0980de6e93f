/**
 * What one inference worker does, apart from how its messages travel (worker.ts: a forked
 * process): load one analyzer (threads=1), then decode, analyse and annotate each task, answering
 * a result or an error with the library's code.
 */
import sharp from 'sharp';
import { SSD_DEFAULT_PRECISION } from '../detect/ssd.js';
import { FerkitError } from '../errors.js';
import { createAnalyzer } from '../node/analyzer.js';
import { decodeImageBytes } from '../node/decode.js';
import { renderAnnotated } from '../node/render.js';
import { DEFAULT_DETECTOR_KIND, DEFAULT_LANDMARK_KIND, type DetectorKind, type LandmarkKind } from '../node/stages.js';
import type { AnalyzeTask, FromWorker, ModelInfo, WorkerConfig } from './protocol.js';

export interface TaskRunner {
  info: ModelInfo;
  run(id: number, task: AnalyzeTask): Promise<Extract<FromWorker, { type: 'result' | 'error' }>>;
}

const DETECTOR_DESCRIPTIONS: Record<DetectorKind, string> = {
  cnn: 'cnn: SSD MobileNetV1 (face-api, converted to ONNX)',
  blazeface: "blazeface: MediaPipe BlazeFace, back-camera model (Human's model collection, converted to ONNX)",
  haar: 'haar: OpenCV frontal-face cascade',
  dlib: "dlib: dlib's HOG frontal face detector (get_frontal_face_detector)",
};
const LANDMARK_DESCRIPTIONS: Record<LandmarkKind, string> = {
  ferkit: "68-point iBUG landmarks (ferkit's landmark model, models/ferkit-landmarks.onnx)",
  faceapi: '68-point iBUG landmarks (face-api landmark68 net, converted to ONNX)',
  dlib: "68-point iBUG landmarks (dlib's shape predictor, shape_predictor_68_face_landmarks.dat)",
};

export async function createTaskRunner(config: WorkerConfig): Promise<TaskRunner> {
  // One thread per worker in every native library: the pool supplies the parallelism.
  sharp.concurrency(1);
  sharp.cache(false);
  const { maxBytes: _maxBytes, testHooks: _testHooks, ...analyzerOptions } = config;
  const analyzer = await createAnalyzer({ ...analyzerOptions, threads: 1 });
  const card = analyzer.expressionClassifier.card;
  const detector = analyzer.options.detector ?? DEFAULT_DETECTOR_KIND;
  const info: ModelInfo = {
    detector:
      detector === 'cnn'
        ? `${DETECTOR_DESCRIPTIONS.cnn}, ${analyzer.options.ssdPrecision ?? SSD_DEFAULT_PRECISION}`
        : DETECTOR_DESCRIPTIONS[detector],
    landmarks: LANDMARK_DESCRIPTIONS[analyzer.options.landmarks ?? DEFAULT_LANDMARK_KIND],
    expression: {
      name: card.name,
      family: card.family,
      inputSize: analyzer.expressionClassifier.size,
      tta: analyzer.expressionClassifier.tta,
      parameters: card.parameters,
      metrics: card.metrics,
    },
    threadsPerWorker: 1,
  };
  return {
    info,
    async run(id, task) {
      try {
        if (config.testHooks && task.delayMs) await new Promise((r) => setTimeout(r, task.delayMs));
        // Simulate a native crash: the worker dies without answering.
        if (config.testHooks && task.crash) process.exit(3);
        const t = performance.now();
        const image = await decodeImageBytes(task.bytes, 'request body', {
          maxPixels: config.maxPixels,
          maxBytes: config.maxBytes,
        });
        const result = await analyzer.analyzeImage(image, performance.now() - t);
        let annotated: Uint8Array | undefined;
        if (task.annotate) {
          const buf = await renderAnnotated(image, result.faces, { format: task.annotate, quality: 90 });
          annotated = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
        }
        return { type: 'result', id, result, image: annotated };
      } catch (e) {
        const code = e instanceof FerkitError ? e.code : 'E_INTERNAL';
        return { type: 'error', id, code, message: (e as Error).message ?? String(e) };
      }
    },
  };
}
