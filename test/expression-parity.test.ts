/**
 * TypeScript vs PyTorch: the shipped expression models, run through ExpressionClassifier on
 * onnxruntime-node, give PyTorch's probabilities (exported beside each model): within 1e-4 for
 * float models, within the fixture's wider tolerance for int8 ones (two int8 engines round apart).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledModelNames } from '../src/node/bundled-models.js';
import { bundledModelDir } from '../src/node/paths.js';
import { checkParity, MAX_PARITY_TOLERANCE } from './helpers/parity.js';

const models = bundledModelNames('expression')
  .map((name) => `${name}.onnx`)
  .filter((f) => existsSync(join(bundledModelDir(), f.replace(/\.onnx$/, '.parity.json'))));

describe('expression model parity with PyTorch', () => {
  it('ships at least one model with a parity fixture', () => {
    expect(models.length).toBeGreaterThan(0);
  });
  for (const m of models) {
    it(`${m}: probabilities match PyTorch's, with and without flip TTA`, async () => {
      const { maxDiffTta, maxDiffNoTta, tolerance, precision } = await checkParity(join(bundledModelDir(), m));
      // a fixture cannot widen its own bound: 1e-4 for float graphs, 0.03 for int8 (export.py says why)
      expect(tolerance).toBeLessThanOrEqual(MAX_PARITY_TOLERANCE[precision]);
      expect(maxDiffTta).toBeLessThan(tolerance);
      expect(maxDiffNoTta).toBeLessThan(tolerance);
    });
  }
});
