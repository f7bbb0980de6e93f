/**
 * What a queue job carries and how it is named. A job's key is the sha256 of the input's content
 * hash and its canonical analysis options, so the same bytes with the same options — re-added, or
 * a renamed copy — are one key, one job and one result.
 */
import { createHash } from 'node:crypto';
import { DLIB_HOG_DEFAULTS } from '../detect/dlib-hog/options.js';
import { SSD_DEFAULT_PRECISION, type SsdPrecision } from '../detect/ssd.js';
import { ANALYZER_DEFAULTS, type AnalyzerOptions, type DetectorKind, type LandmarkKind } from '../node/index.js';

/** The analysis options that change a result (threads do not: a worker chooses its own). */
export interface JobAnalysisOptions {
  detector: DetectorKind;
  landmarks: LandmarkKind;
  /** dlib detector only. */
  dlibUpsample?: number;
  /** cnn detector only: the SSD build (its boxes differ slightly between builds). */
  ssdPrecision?: SsdPrecision;
  minFaceSize: number;
  scoreThreshold?: number;
  expressionModel: string;
  tta?: 'none' | 'flip';
}

/** Video-only options that change the timeline. */
export interface JobVideoOptions {
  /** Analyse every Nth frame. */
  every: number;
  /** Tracker EMA weight; undefined: the tracker's default. */
  smoothing?: number;
}

export interface ImageJob {
  kind: 'image';
  /** Absolute path (workers share the file system) or http(s) URL. */
  file: string;
  key: string;
  options: JobAnalysisOptions;
}

/** Geometry a segment needs to decode its frames exactly as `ferkit video` would. */
export interface VideoGeometry {
  width: number;
  height: number;
  fps: number;
  /** Start of the video stream in the container, seconds (ffprobe). */
  videoStart: number;
}

export interface SegmentJob {
  kind: 'segment';
  file: string;
  /** The video's key (results are stored under it). */
  key: string;
  options: JobAnalysisOptions;
  video: JobVideoOptions & VideoGeometry;
  index: number;
  startFrame: number;
  /** Frames in this segment; undefined for the last one (decoded to the end). */
  frames?: number;
}

/** The parent of a video's segments: runs once they are all done and stitches them. */
export interface VideoJob {
  kind: 'video';
  file: string;
  key: string;
  options: JobAnalysisOptions;
  video: JobVideoOptions & VideoGeometry & { segments: number };
}

export type QueueJobData = ImageJob | SegmentJob | VideoJob;

/** createAnalyzer's options → the result-changing ones with defaults filled in (stable for hashing). */
export function jobAnalysisOptions(o: AnalyzerOptions): JobAnalysisOptions {
  const detector = o.detector ?? ANALYZER_DEFAULTS.detector;
  return {
    detector,
    landmarks: o.landmarks ?? ANALYZER_DEFAULTS.landmarks,
    ...(detector === 'dlib' ? { dlibUpsample: o.dlibUpsample ?? DLIB_HOG_DEFAULTS.upsample } : {}),
    ...(detector === 'cnn' ? { ssdPrecision: o.ssdPrecision ?? SSD_DEFAULT_PRECISION } : {}),
    minFaceSize: o.minFaceSize ?? ANALYZER_DEFAULTS.minFaceSize,
    ...(o.scoreThreshold !== undefined ? { scoreThreshold: o.scoreThreshold } : {}),
    expressionModel: o.expressionModel ?? ANALYZER_DEFAULTS.expressionModel,
    ...(o.tta !== undefined ? { tta: o.tta } : {}),
  };
}

/** JSON with sorted object keys, so equal options always hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** sha256(content hash + canonical options), hex. */
export function jobKey(contentSha256: string, options: JobAnalysisOptions, video?: JobVideoOptions): string {
  return createHash('sha256')
    .update(contentSha256)
    .update('\n')
    .update(canonicalJson({ options, video }))
    .digest('hex');
}

/** BullMQ job ids (custom ids must not look like integers; prefixes also tell kinds apart). */
export const jobIds = {
  image: (key: string) => `img-${key}`,
  video: (key: string) => `vid-${key}`,
  segment: (key: string, index: number) => `seg-${key}-${index}`,
};

export interface RetryPolicy {
  /** Tries per job before it is failed (default 3). */
  attempts: number;
  /** First retry delay in ms, doubled each time (default 1000). */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1000 };

/**
 * BullMQ job options: exponential backoff; completed jobs are removed at once (the result lives in
 * the results hash, so the queue holds only work in flight); failed ones are kept for `status`.
 */
export function bullJobOptions(jobId: string, retry: RetryPolicy = DEFAULT_RETRY) {
  return {
    jobId,
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: true,
    removeOnFail: false,
  } as const;
}
