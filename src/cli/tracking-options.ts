/**
 * The options `ferkit video` and `ferkit camera` share: which frames to analyse and how to smooth
 * them, the timeline and chart outputs, and the analyzer's detector and model.
 */
import type { AnalyzerOptions } from '../node/analyzer.js';
import { parseAnalysisOptions } from './analysis-options.js';
import { parseNumber, UsageError } from './command.js';

/**
 * --detect-every's default: run the detector on every other analysed frame, following faces by their
 * landmarks in between. From `ferkit bench follow` on short_hamilton_clip.mp4 (BENCHMARKS.md,
 * "Landmark following"): 2 ran 1.5x the frames/s of every-frame detection and kept 98 % of its faces
 * (box IoU 0.97); 3 gained only 1.7x for 3-4 % of the faces lost, 5 and 10 lost 10-24 %.
 */
export const DEFAULT_DETECT_EVERY = 2;

/** parseCommandArgs option specs of the shared flags (spread into each command's own). */
export const TRACKING_ARGS = {
  timeline: { type: 'string' },
  plot: { type: 'string' },
  every: { type: 'string' },
  'detect-every': { type: 'string' },
  smooth: { type: 'string' },
  detector: { type: 'string' },
  'min-face': { type: 'string' },
  threshold: { type: 'string' },
  model: { type: 'string' },
  threads: { type: 'string' },
} as const;

type TrackingValues = { [K in keyof typeof TRACKING_ARGS]?: string };

export interface TrackingOptions {
  /** Analyse every Nth frame (--every, default 1). */
  every: number;
  /** Of the analysed frames, run the detector on every Nth (--detect-every, default DEFAULT_DETECT_EVERY). */
  detectEvery: number;
  /** EMA weight of the newest frame (--smooth); undefined: the tracker's default. */
  smoothing: number | undefined;
  /** For createAnalyzer (--detector, --min-face, --threshold, --model, --threads). */
  analyzer: AnalyzerOptions;
}

/** Checks the shared flags (UsageError on a bad one) and returns them parsed. */
export function parseTrackingOptions(values: TrackingValues): TrackingOptions {
  const every = parseNumber(values.every, '--every', 1, 1e6) ?? 1;
  if (!Number.isInteger(every)) throw new UsageError(`--every: expected a whole number, got "${values.every}"`);
  const detectEvery = parseNumber(values['detect-every'], '--detect-every', 1, 1e6) ?? DEFAULT_DETECT_EVERY;
  if (!Number.isInteger(detectEvery))
    throw new UsageError(`--detect-every: expected a whole number, got "${values['detect-every']}"`);
  const smoothing = parseNumber(values.smooth, '--smooth', 0, 1);
  if (smoothing === 0) throw new UsageError('--smooth: must be > 0 (1 = no smoothing)');
  if (values.plot && !/\.png$/i.test(values.plot)) throw new UsageError('--plot: expected a .png file name');
  return {
    every,
    detectEvery,
    smoothing,
    analyzer: parseAnalysisOptions(values),
  };
}
