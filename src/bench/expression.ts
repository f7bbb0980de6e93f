/**
 * `ferkit bench expression`: milliseconds per face of each expression model, single-threaded, one
 * face per call and batched, with and without flip TTA, on onnxruntime-node and on
 * onnxruntime-web's WASM backend (the browser app's engine without WebGPU, run here in Node).
 */
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { bundledModelNames } from '../node/bundled-models.js';
import { loadExpressionModel } from '../node/expression-model.js';
import type { InferenceRuntime } from '../runtime/types.js';
import { BENCH_ENGINE_LABEL, BENCH_ENGINES, type BenchEngine, benchRuntime } from './engines.js';
import { median } from './photos.js';
import { markdownTable } from './report.js';

export type ExpressionBenchEngine = BenchEngine;
export const EXPRESSION_BENCH_ENGINES = BENCH_ENGINES;

export interface ExpressionBenchOptions {
  /** Single-face calls timed per model, engine and TTA (default 200). */
  runs?: number;
  /** Faces per call in the batched measurement (default 32). */
  batch?: number;
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Engines to time each model on (default both). */
  engines?: readonly ExpressionBenchEngine[];
}

export interface ExpressionBenchRow {
  model: string;
  engine: ExpressionBenchEngine;
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
  return bundledModelNames('expression');
}

export async function benchExpression(
  models: string[],
  options: ExpressionBenchOptions = {},
): Promise<ExpressionBenchRow[]> {
  const { runs = 200, batch = 32, threads = 1, engines = EXPRESSION_BENCH_ENGINES } = options;
  const rows: ExpressionBenchRow[] = [];
  const one = crops(1);
  const many = crops(batch);
  for (const engine of engines) {
    const runtime = await benchRuntime(engine, threads);
    for (const name of models) rows.push(...(await benchModel(runtime, engine, name, runs, one, many, threads)));
  }
  return rows;
}

async function benchModel(
  runtime: InferenceRuntime,
  engine: ExpressionBenchEngine,
  name: string,
  runs: number,
  one: Uint8Array[],
  many: Uint8Array[],
  threads: number,
): Promise<ExpressionBenchRow[]> {
  const rows: ExpressionBenchRow[] = [];
  const batch = many.length;
  const m = await loadExpressionModel(name);
  for (const tta of ['flip', 'none'] as const) {
    const c = await ExpressionClassifier.create(runtime, m.bytes, m.card, m.path, { tta, threads });
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
      engine,
      tta,
      threads,
      msPerFaceSingle: median(single),
      msPerFaceBatched: median(batched),
      batch,
    });
  }
  return rows;
}

/** The timings as a Markdown table (also what the command prints). */
export function formatExpressionBench(rows: ExpressionBenchRow[]): string {
  return markdownTable(
    ['model', 'engine', 'TTA', 'threads', 'ms/face (1 per call)', `ms/face (batch of ${rows[0]?.batch ?? ''})`],
    rows.map((r) => [
      r.model,
      BENCH_ENGINE_LABEL[r.engine],
      r.tta,
      String(r.threads),
      r.msPerFaceSingle.toFixed(2),
      r.msPerFaceBatched.toFixed(2),
    ]),
    2,
  );
}

/** BENCHMARKS.md body: what was timed, then the table. */
export function expressionBenchMarkdown(rows: ExpressionBenchRow[], runs: number): string {
  return [
    `Random 48×48 crops: ${runs} single-face calls per model, engine and TTA after 10 warm-ups, and batches of ${rows[0]?.batch ?? '–'}; medians. onnxruntime-web's WASM backend (SIMD) runs in Node here: the engine of ferkit's browser app without WebGPU.`,
    '',
    formatExpressionBench(rows),
  ].join('\n');
}
