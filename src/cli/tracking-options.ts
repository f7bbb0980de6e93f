/**
 * The options `ferkit video` and `ferkit camera` share: which frames to analyse and how to smooth
 * them, the timeline and chart outputs, and the analyzer's detector and model.
 */
import type { AnalyzerOptions } from '../node/analyzer.js';
import { ANALYSIS_ARGS, parseAnalysisOptions } from './analysis-options.js';
import { parseNumber, UsageError } from './command.js';

/**
 * --detect-every's defaults. From `ferkit bench follow` on short_hamilton_clip.mp4 (BENCHMARKS.md,
 * "Landmark following"): running the detector on every other frame and following faces by their
 * landmarks in between gave 1.5x the frames/s of every-frame detection and kept 98 % of its faces
 * (box IoU 0.97, 93 % the same label); every 3rd gained only 1.7x for 3-4 % of the faces lost.
 * - camera (live): 2, where frames/s is what a viewer sees and a face lost for a frame comes back;
 * - video (offline files): 1, so a file's timeline is every-frame detection's, and equal to what
 *   `ferkit queue` computes from the same file in segments (which cannot follow across segments).
 */
export const DEFAULT_DETECT_EVERY = { camera: 2, video: 1 } as const;

/** parseCommandArgs option specs of the shared flags (spread into each command's own). */
export const TRACKING_ARGS = {
  timeline: { type: 'string' },
  plot: { type: 'string' },
  every: { type: 'string' },
  'detect-every': { type: 'string' },
  smooth: { type: 'string' },
  ...ANALYSIS_ARGS,
} as const;

type TrackingValues = { [K in keyof typeof TRACKING_ARGS]?: string };

export interface TrackingOptions {
  /** Analyse every Nth frame (--every, default 1). */
  every: number;
  /** Of the analysed frames, run the detector on every Nth (--detect-every, default DEFAULT_DETECT_EVERY[mode]). */
  detectEvery: number;
  /** EMA weight of the newest frame (--smooth); undefined: the tracker's default. */
  smoothing: number | undefined;
  /** For createAnalyzer (the analysis flags: --detector, --landmarks, --model…). */
  analyzer: AnalyzerOptions;
}

/** Checks the shared flags (UsageError on a bad one) and returns them parsed. */
export function parseTrackingOptions(values: TrackingValues, mode: keyof typeof DEFAULT_DETECT_EVERY): TrackingOptions {
  const every = parseNumber(values.every, '--every', 1, 1e6) ?? 1;
  if (!Number.isInteger(every)) throw new UsageError(`--every: expected a whole number, got "${values.every}"`);
  const detectEvery = parseNumber(values['detect-every'], '--detect-every', 1, 1e6) ?? DEFAULT_DETECT_EVERY[mode];
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
