/**
 * Each bundled expression model, run by ferkit on onnxruntime-node over all of FER2013 PublicTest,
 * reaches the accuracy its card reports (measured in PyTorch at export). For float models that is
 * the same arithmetic, so a handful of faces at most may differ; an int8 model runs on a different
 * int8 engine than PyTorch's, so a few more faces near a class boundary may flip.
 * Needs ../shared/data (skipped without it).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fer2013Data, loadFer2013 } from '../src/data/fer2013.js';
import { accuracy, predictions } from '../src/eval/metrics.js';
import { ExpressionClassifier } from '../src/expression/classifier.js';
import { bundledModelNames } from '../src/node/bundled-models.js';
import { loadExpressionModel } from '../src/node/expression-model.js';
import { bundledModelDir } from '../src/node/paths.js';
import { nodeRuntime } from '../src/node/runtime.js';

const dataRoot = resolve(process.env.FERKIT_DATA ?? fileURLToPath(new URL('../../shared/data', import.meta.url)));
const publicTest = join(dataRoot, 'fer2013', 'publictest.bin');
const models = bundledModelNames('expression').map((name) => `${name}.onnx`);

/** Largest |ferkit − card| accuracy gap accepted: 4 faces of 3,589 in float, 18 in int8. */
const MAX_GAP = { fp32: 0.0012, int8: 0.005 } as const;

describe.skipIf(!existsSync(publicTest))('bundled models on all of FER2013 PublicTest', () => {
  let data: Fer2013Data;
  beforeAll(async () => {
    data = await loadFer2013(publicTest);
  });

  for (const file of models) {
    it(`${file}: accuracy with the card's TTA matches the card`, { timeout: 180_000 }, async () => {
      const { bytes, card, path } = await loadExpressionModel(join(bundledModelDir(), file));
      const classifier = await ExpressionClassifier.create(nodeRuntime, bytes, card, path);
      const probabilities = await classifier.probabilities(data.images);
      await classifier.dispose();
      expect(data.labels.length).toBe(card.metrics.n);
      const measured = accuracy(data.labels, predictions(probabilities));
      const expected = classifier.tta === 'flip' ? card.metrics.accuracyTta : card.metrics.accuracy;
      expect(Math.abs(measured - expected)).toBeLessThanOrEqual(MAX_GAP[card.precision ?? 'fp32']);
    });
  }
});
