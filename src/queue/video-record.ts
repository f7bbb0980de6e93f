/**
 * A video's result record: the stitched timeline in the shape `ferkit video --timeline` writes
 * (one row per face per analysed frame) and its per-face summary (`--summary`).
 */

import { EXPRESSION_LABELS } from '../node/index.js';
import { CSV_HEADER, csvCell } from '../pipeline/records.js';
import type { TimelineRow, VideoSummary } from '../video/timeline.js';

export interface VideoRecord {
  file: string;
  width: number;
  height: number;
  video: Omit<VideoSummary, 'input'>;
  timeline: TimelineRow[];
}

export function isVideoRecord(r: object): r is VideoRecord {
  return 'timeline' in r;
}

/**
 * CSV rows of a video in the image columns: one row per face track, `face` = its id, `label` =
 * its dominant expression and the probabilities its mean ones (no box: it moves).
 */
export function videoCsvRows(r: VideoRecord): string[] {
  const row = (cells: unknown[]) => cells.map(csvCell).join(',');
  if (!r.video.faces.length) return [row([r.file, r.width, r.height, ...CSV_HEADER.slice(3).map(() => '')])];
  return r.video.faces.map((f) =>
    row([
      r.file,
      r.width,
      r.height,
      f.faceId,
      '',
      '',
      '',
      '',
      '',
      f.dominant,
      ...EXPRESSION_LABELS.map((l) => f.meanProbabilities[l]),
      '',
    ]),
  );
}
