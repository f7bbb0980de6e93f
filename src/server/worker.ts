/**
 * An inference worker process (forked by pool.ts, config as argv[2], messages over IPC): one
 * analyzer (threads=1); decodes, analyses, annotates.
 */
import sharp from 'sharp';
import { createAnalyzer } from '../analyzer.js';
import { FerkitError } from '../errors.js';
import { decodeImageBytes } from '../image/decode-node.js';
import { renderAnnotated } from '../render/node.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';

const send = process.send?.bind(process);
if (!send) throw new Error('ferkit server worker: must be forked with an IPC channel (by the server)');
const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const post = (m: FromWorker) => send(m);
// The server decides when a worker stops: a Ctrl-C reaches the whole process group, and the
// server's graceful shutdown still needs its workers to finish the requests in flight.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
// ...and a worker never outlives its server (killed, crashed): the IPC channel closes.
process.on('disconnect', () => process.exit(0));

// One thread per worker in every native library: the pool supplies the parallelism.
sharp.concurrency(1);
sharp.cache(false);

async function main() {
  let analyzer: Awaited<ReturnType<typeof createAnalyzer>>;
  try {
    analyzer = await createAnalyzer({
      detector: config.detector,
      minFaceSize: config.minFaceSize,
      scoreThreshold: config.scoreThreshold,
      expressionModel: config.expressionModel,
      maxPixels: config.maxPixels,
      threads: 1,
    });
  } catch (e) {
    post({ type: 'init-error', message: (e as Error).message });
    return;
  }
  const card = analyzer.expressionClassifier.card;
  post({
    type: 'ready',
    info: {
      detector:
        analyzer.options.detector === 'haar'
          ? 'haar: OpenCV frontal-face cascade'
          : 'cnn: SSD MobileNetV1 (face-api, converted to ONNX)',
      landmarks: '68-point iBUG landmarks (face-api landmark68 net, converted to ONNX)',
      expression: {
        name: card.name,
        family: card.family,
        inputSize: analyzer.expressionClassifier.size,
        tta: analyzer.expressionClassifier.tta,
        parameters: card.parameters,
        metrics: card.metrics,
      },
      threadsPerWorker: 1,
    },
  });

  process.on('message', async (msg: ToWorker) => {
    if (msg.type !== 'analyze') return;
    const { id, task } = msg;
    try {
      if (config.testHooks && task.delayMs) await new Promise((r) => setTimeout(r, task.delayMs));
      if (config.testHooks && task.crash) {
        // Simulate a native crash: the process dies without answering.
        process.exit(3);
      }
      const t = performance.now();
      const image = await decodeImageBytes(task.bytes, 'request body', {
        maxPixels: config.maxPixels,
        maxBytes: config.maxBytes,
      });
      const result = await analyzer.analyzeImage(image, performance.now() - t);
      let annotated: Uint8Array | undefined;
      if (task.annotate) {
        const buf = await renderAnnotated(image, result.faces, { format: task.annotate, quality: 90 });
        annotated = new Uint8Array(buf.buffer, buf.byteOffset, buf.length).slice();
      }
      post({ type: 'result', id, result, image: annotated });
    } catch (e) {
      post({
        type: 'error',
        id,
        code: e instanceof FerkitError ? e.code : 'E_INTERNAL',
        message: (e as Error).message ?? String(e),
      });
    }
  });
}

void main();
