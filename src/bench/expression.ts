/**
 * `ferkit bench expression`: milliseconds per face of each expression model on onnxruntime-node,
 * single-threaded, one face per call and batched, with and without flip TTA.
 */
import { readdirSync } from 'node:fs';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { loadExpressionModel } from '../node/expression-model.js';
import { bundledModelDir } from '../node/paths.js';
import { nodeRuntime } from '../runtime/node.js';
import { median } from './photos.js';
import { markdownTable } from './report.js';

export interface ExpressionBenchRow {
  model: string;
  tta: TestTimeAugmentation;
  threads: number;
  msPerFaceSingle: number;
  msPerFaceBatched: number;
  batch: number;
}

function crops(n: number): Uint8Array[] {
  let s = 7;
  return Array.from({ length: n }, () =>
    Uint8Array.from({ length: 48 * 48 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24) & 255),
  );
}

export function bundledExpressionModels(): string[] {
  return readdirSync(bundledModelDir())
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => f.replace(/\.onnx$/, ''))
    .sort();
}

export async function benchExpression(
  models: string[],
  runs = 200,
  batch = 32,
  threads = 1,
): Promise<ExpressionBenchRow[]> {
  const rows: ExpressionBenchRow[] = [];
  const one = crops(1);
  const many = crops(batch);
  for (const name of models) {
    const m = await loadExpressionModel(name);
    for (const tta of ['flip', 'none'] as const) {
      const c = await ExpressionClassifier.create(nodeRuntime, m.bytes, m.card, m.path, { tta, threads });
      for (let i = 0; i < 10; i++) await c.probabilities(one);
      const single: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await c.probabilities(one);
        single.push(performance.now() - t);
      }
      const batched: number[] = [];
      for (let i = 0; i < Math.max(5, runs / batch); i++) {
        const t = performance.now();
        await c.probabilities(many);
        batched.push((performance.now() - t) / batch);
      }
      await c.dispose();
      rows.push({
        model: name,
        tta,
        threads,
        msPerFaceSingle: median(single),
        msPerFaceBatched: median(batched),
        batch,
      });
    }
  }
  return rows;
}

/** The timings as a Markdown table (also what the command prints). */
export function formatExpressionBench(rows: ExpressionBenchRow[]): string {
  return markdownTable(
    ['model', 'TTA', 'threads', 'ms/face (1 per call)', `ms/face (batch of ${rows[0]?.batch ?? ''})`],
    rows.map((r) => [r.model, r.tta, String(r.threads), r.msPerFaceSingle.toFixed(2), r.msPerFaceBatched.toFixed(2)]),
    2,
  );
}

/** BENCHMARKS.md body: what was timed, then the table. */
export function expressionBenchMarkdown(rows: ExpressionBenchRow[], runs: number): string {
  return [
    `Random 48×48 crops on onnxruntime-node: ${runs} single-face calls per model and TTA after 10 warm-ups, and batches of ${rows[0]?.batch ?? '–'}; medians.`,
    '',
    formatExpressionBench(rows),
  ].join('\n');
}
