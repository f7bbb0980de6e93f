/** Regenerate export.py's parity inputs and compare TypeScript's probabilities with PyTorch's. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseExpressionCard } from '../../src/expression/card.js';
import { ExpressionClassifier } from '../../src/expression/classifier.js';
import { nodeRuntime } from '../../src/node/runtime.js';

/** The inputs of training/ferkit_train/export.py:parity_inputs, regenerated bit for bit. */
export function parityInputs(count = 4, size = 48): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const a = new Uint8Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        a[y * size + x] = Math.floor(127.5 + 127.5 * Math.sin(0.3 * (k + 1) * x + 0.2 * y + k));
    return a;
  });
}

/** The widest tolerance a fixture may declare, by precision (export.py writes these and says why). */
export const MAX_PARITY_TOLERANCE = { fp32: 1e-4, int8: 0.03 } as const;

/** A fixture's tolerance: export.py writes 1e-4 for float graphs, more for int8 ones (see there why). */
export interface ParityResult {
  maxDiffTta: number;
  maxDiffNoTta: number;
  tolerance: number;
  precision: 'fp32' | 'int8';
}

export async function checkParity(onnxPath: string): Promise<ParityResult> {
  const card = parseExpressionCard(JSON.parse(readFileSync(onnxPath.replace(/\.onnx$/, '.json'), 'utf8')), onnxPath);
  const parity = JSON.parse(readFileSync(onnxPath.replace(/\.onnx$/, '.parity.json'), 'utf8'));
  const bytes = readFileSync(onnxPath);
  const inputs = parityInputs(parity.probabilitiesTta.length);
  let maxDiffTta = 0;
  let maxDiffNoTta = 0;
  for (const tta of ['flip', 'none'] as const) {
    const c = await ExpressionClassifier.create(nodeRuntime, bytes, card, onnxPath, { tta, threads: 1 });
    const probs = await c.probabilities(inputs);
    await c.dispose();
    const expected: number[][] = tta === 'flip' ? parity.probabilitiesTta : parity.probabilitiesNoTta;
    for (const [i, p] of probs.entries()) {
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      for (const [j, v] of p.entries()) {
        const d = Math.abs(v - expected[i][j]);
        if (tta === 'flip') maxDiffTta = Math.max(maxDiffTta, d);
        else maxDiffNoTta = Math.max(maxDiffNoTta, d);
      }
    }
  }
  const tolerance = typeof parity.tolerance === 'number' ? parity.tolerance : MAX_PARITY_TOLERANCE.fp32;
  return { maxDiffTta, maxDiffNoTta, tolerance, precision: card.precision ?? 'fp32' };
}
