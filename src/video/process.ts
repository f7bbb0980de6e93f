/**
 * The frame loop shared by `ferkit video` and `ferkit camera`: analyse every Nth frame (running
 * the detector on every Nth analysed frame, faces followed by their landmarks between), track
 * faces across frames (stable ids, EMA-smoothed probabilities), reuse the last result on skipped
 * frames, and annotate frames to raw rgb24 for the encoder.
 */
import type { Analyzer } from '../node/analyzer.js';
import { drawAnnotated } from '../node/render.js';
import type { StageTimings } from '../pipeline/types.js';
import { FaceTracker, type TrackedFace } from '../track/tracker.js';
import type { RgbImage } from '../types.js';
import type { RawFrame } from './ffmpeg.js';
import { type TimelineRow, timelineRows } from './timeline.js';

export interface FrameResult {
  index: number;
  /** Seconds since the first frame. */
  time: number;
  image: RgbImage;
  /** True when this frame was analysed; false when it reuses the last analysed frame's faces. */
  processed: boolean;
  /** True when the detector ran on this frame; false when its faces were followed or reused. */
  detected: boolean;
  faces: TrackedFace[];
  /** Timeline rows of this frame (empty on skipped frames). */
  rows: TimelineRow[];
  timings?: StageTimings;
}

export interface FrameLoopOptions {
  analyzer: Analyzer;
  fps: number;
  /** Analyse every Nth frame (default 1). */
  every?: number;
  /**
   * Of the analysed frames, run the detector on every Nth only and follow faces by their landmarks
   * in between (default 1: detect on every analysed frame).
   */
  detectEvery?: number;
  /** EMA weight of the newest frame (tracker smoothing), default 0.4. */
  smoothing?: number;
  /** Seconds a face may go unseen and keep its id (default 0.5). */
  keepIdSeconds?: number;
  tracker?: FaceTracker;
}

/** A tracker whose "short miss" is measured in seconds whatever the analysis stride. */
export function videoTracker(fps: number, every = 1, smoothing?: number, keepIdSeconds = 0.5): FaceTracker {
  return new FaceTracker({ smoothing, maxMissed: Math.max(2, Math.ceil((keepIdSeconds * fps) / every)) });
}

export async function* analyzeFrames(
  frames: AsyncIterable<RawFrame>,
  o: FrameLoopOptions,
): AsyncGenerator<FrameResult> {
  const every = Math.max(1, Math.floor(o.every ?? 1));
  const tracker = o.tracker ?? videoTracker(o.fps, every, o.smoothing, o.keepIdSeconds);
  const stream = o.analyzer.videoStream({ detectEvery: o.detectEvery ?? 1, tracker });
  let last: TrackedFace[] = [];
  for await (const frame of frames) {
    const image: RgbImage = { width: frame.width, height: frame.height, data: frame.data };
    const time = frame.index / o.fps;
    if (frame.index % every === 0) {
      const result = await stream.analyze(image);
      last = result.faces;
      yield {
        index: frame.index,
        time,
        image,
        processed: true,
        detected: result.detected,
        faces: last,
        rows: timelineRows(frame.index, time, last),
        timings: result.timings,
      };
    } else {
      yield { index: frame.index, time, image, processed: false, detected: false, faces: last, rows: [] };
    }
  }
}

/** The frame with boxes, ids, points and probability bars drawn on it, as rgb24 (the input when no faces). */
export function annotateFrame(image: RgbImage, faces: readonly TrackedFace[]): Uint8Array {
  if (!faces.length) return image.data;
  const canvas = drawAnnotated(image, faces, { ids: faces.map((f) => f.id) });
  const rgba = canvas.getContext('2d').getImageData(0, 0, image.width, image.height).data;
  const rgb = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

/** Tracked faces as compact JSON (rounded) for JSON lines and the WebSocket stream. */
export function trackedToJson(faces: readonly TrackedFace[]) {
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
  return faces.map((f) => ({
    id: f.id,
    box: { x: r2(f.box.x), y: r2(f.box.y), width: r2(f.box.width), height: r2(f.box.height) },
    score: r4(f.score),
    label: f.expression.label,
    probabilities: Object.fromEntries(Object.entries(f.expression.probabilities).map(([k, v]) => [k, r4(v)])),
    rawProbabilities: Object.fromEntries(Object.entries(f.rawProbabilities).map(([k, v]) => [k, r4(v)])),
    age: f.age,
  }));
}
