/**
 * Videos on the queue: a segment job decodes its stretch of frames (ffmpeg input seek, the same
 * decoder as `ferkit video`) and returns each analysed frame's raw faces; the video's stitch job
 * then replays all frames in order through one tracker, so face ids and smoothing continue across
 * segment boundaries and the timeline equals a single-process `ferkit video` of the same file.
 */
import { stat } from 'node:fs/promises';
import type { Analyzer } from '../node/index.js';
import { EXPRESSION_LABELS, type ExpressionLabel, type ExpressionProbabilities, FerkitError } from '../node/index.js';
import type { FaceResult } from '../pipeline/types.js';
import { decodeFrames } from '../video/ffmpeg.js';
import { videoTracker } from '../video/process.js';
import { SummaryBuilder, type TimelineRow, timelineRows } from '../video/timeline.js';
import type { SegmentJob, VideoJob } from './jobs.js';
import type { VideoRecord } from './video-record.js';

/** A face as the tracker needs it (full precision: the stitched timeline must match exactly). */
interface RawFace {
  box: FaceResult['box'];
  score: number;
  label: ExpressionLabel;
  /** Probabilities in EXPRESSION_LABELS order. */
  p: number[];
}

export interface SegmentResult {
  index: number;
  /** Frames decoded in this segment. */
  frames: number;
  /** Analysed frames (global index) and their faces. */
  analysed: { frame: number; faces: RawFace[] }[];
}

export async function analyzeSegment(analyzer: Analyzer, s: SegmentJob): Promise<SegmentResult> {
  // a video gone from the shared volume is a missing file, not a decoding failure
  await stat(s.file).catch(() => {
    throw new FerkitError('E_NOT_FOUND', `${s.file}: no such file`);
  });
  const { width, height, fps, videoStart, every } = s.video;
  // Seek to half a frame before the first one: ffmpeg's accurate input seek then drops everything
  // earlier, so the segment starts exactly at frame `startFrame` whatever the timestamps' rounding.
  const seek = s.startFrame > 0 ? videoStart + (s.startFrame - 0.5) / fps : 0;
  const decoder = decodeFrames({
    input: s.file,
    width,
    height,
    inputArgs: seek > 0 ? ['-ss', seek.toFixed(6)] : [],
  });
  const analysed: SegmentResult['analysed'] = [];
  let frames = 0;
  try {
    for await (const f of decoder) {
      if (s.frames !== undefined && frames >= s.frames) break;
      const frame = s.startFrame + f.index;
      frames++;
      if (frame % every !== 0) continue;
      const result = await analyzer.analyzeImage({ width: f.width, height: f.height, data: f.data });
      analysed.push({
        frame,
        faces: result.faces.map((face) => ({
          box: face.box,
          score: face.score,
          label: face.expression.label,
          p: EXPRESSION_LABELS.map((l) => face.expression.probabilities[l]),
        })),
      });
    }
  } finally {
    decoder.stop();
  }
  await decoder.done;
  return { index: s.index, frames, analysed };
}

const toFaceResult = (f: RawFace): FaceResult => ({
  box: f.box,
  score: f.score,
  landmarks: [],
  expression: {
    label: f.label,
    probabilities: Object.fromEntries(EXPRESSION_LABELS.map((l, i) => [l, f.p[i]])) as ExpressionProbabilities,
  },
});

/** All segments (any order) → the video's record: one tracker over every analysed frame in order. */
export function stitchSegments(v: VideoJob, segments: readonly SegmentResult[]): VideoRecord {
  const ordered = [...segments].sort((a, b) => a.index - b.index);
  const { fps, every, smoothing } = v.video;
  const tracker = videoTracker(fps, every, smoothing);
  const summary = new SummaryBuilder();
  const timeline: TimelineRow[] = [];
  let frames = 0;
  let processed = 0;
  for (const s of ordered) {
    frames += s.frames;
    for (const a of s.analysed) {
      processed++;
      const rows = timelineRows(a.frame, a.frame / fps, tracker.update(a.faces.map(toFaceResult)));
      summary.add(rows);
      timeline.push(...rows);
    }
  }
  const { input: _input, ...video } = summary.build({
    frames,
    processedFrames: processed,
    fps,
    duration: frames / fps,
  });
  return { file: v.file, width: v.video.width, height: v.video.height, video, timeline };
}
