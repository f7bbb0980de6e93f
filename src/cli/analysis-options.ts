/**
 * The analysis flags every command that runs the analyzer shares (`ferkit analyze`, `ferkit video`,
 * `ferkit camera`, `ferkit queue add`): detector, face size, threshold, expression model, TTA and
 * inference threads, parsed into createAnalyzer's options.
 */
import type { AnalyzerOptions } from '../node/index.js';
import { parseChoice, parseNumber } from './command.js';

/** parseCommandArgs option specs of the analysis flags (spread into each command's own). */
export const ANALYSIS_ARGS = {
  detector: { type: 'string' },
  'min-face': { type: 'string' },
  threshold: { type: 'string' },
  model: { type: 'string' },
  tta: { type: 'string' },
  threads: { type: 'string' },
} as const;

export type AnalysisValues = { [K in keyof typeof ANALYSIS_ARGS]?: string };

/** Checks the analysis flags (UsageError naming the bad one) and returns createAnalyzer's options. */
export function parseAnalysisOptions(values: AnalysisValues): AnalyzerOptions {
  return {
    detector: parseChoice(values.detector, '--detector', ['cnn', 'haar'] as const),
    minFaceSize: parseNumber(values['min-face'], '--min-face', 0),
    scoreThreshold: parseNumber(values.threshold, '--threshold', 0, 1),
    expressionModel: values.model,
    tta: parseChoice(values.tta, '--tta', ['none', 'flip'] as const),
    threads: parseNumber(values.threads, '--threads', 0, 256),
  };
}
