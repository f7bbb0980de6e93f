/**
 * TypeScript vs PyTorch: the shipped expression models, run through ExpressionClassifier on
 * onnxruntime-node, give PyTorch's probabilities (exported beside each model) within 1e-4.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledModelDir } from '../src/node/paths.js';
import { checkParity } from './helpers/parity.js';

const models = existsSync(bundledModelDir())
  ? readdirSync(bundledModelDir()).filter(
      (f) => f.endsWith('.onnx') && existsSync(join(bundledModelDir(), f.replace(/\.onnx$/, '.parity.json'))),
    )
  : [];

describe('expression model parity with PyTorch', () => {
  it('ships at least one model with a parity fixture', () => {
    expect(models.length).toBeGreaterThan(0);
  });
  for (const m of models) {
    it(`${m}: probabilities within 1e-4 of PyTorch, with and without flip TTA`, async () => {
      const { maxDiffTta, maxDiffNoTta } = await checkParity(join(bundledModelDir(), m));
      expect(maxDiffTta).toBeLessThan(1e-4);
      expect(maxDiffNoTta).toBeLessThan(1e-4);
    });
  }
});
