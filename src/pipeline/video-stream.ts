/**
 * One video stream's analysis state, the same in every host: consecutive frames go through the
 * pipeline with the detector run every Nth frame only (faces followed by their landmarks in
 * between), and the faces tracked across frames (stable ids, smoothed expressions, and the
 * tracker's `expressionEvery`). The browser analyzer's video mode and Node's frame loop use it.
 */
import type { DetectOptions } from '../detect/types.js';
import { FerkitError } from '../errors.js';
import { FaceTracker, type TrackedFace } from '../track/tracker.js';
import type { RgbImage } from '../types.js';
import { LandmarkFollowingDetector } from './landmark-follow.js';
import { type PipelineStages, runPipeline } from './run.js';
import type { AnalysisResult } from './types.js';

export interface VideoStreamOptions {
  /** Run the detector on every Nth frame and follow faces by their landmarks in between (default 1: every frame). */
  detectEvery?: number;
  /** The tracker (default: a FaceTracker with its default settings). */
  tracker?: FaceTracker;
}

export interface VideoFrameAnalysis extends AnalysisResult {
  faces: TrackedFace[];
  /** False when this frame's boxes were followed from the last landmarks instead of detected. */
  detected: boolean;
}

/** Throws E_INPUT unless `n` is a positive integer. */
export function checkDetectEvery(n: unknown, field = 'detectEvery'): asserts n is number {
  if (!(Number.isInteger(n) && (n as number) >= 1)) {
    throw new FerkitError('E_INPUT', `${field} must be a positive integer, got ${n}`);
  }
}

export class VideoStream {
  /** The frame-to-frame tracker; replace it to change tracker settings (ids restart). */
  tracker: FaceTracker;
  private readonly follower: LandmarkFollowingDetector;
  private readonly stages: PipelineStages;

  /** `stages.detector` is wrapped, not owned: disposing it stays the caller's job. */
  constructor(
    stages: PipelineStages,
    private readonly detectOptions: DetectOptions = {},
    options: VideoStreamOptions = {},
  ) {
    const detectEvery = options.detectEvery ?? 1;
    checkDetectEvery(detectEvery);
    this.follower = new LandmarkFollowingDetector(stages.detector, detectEvery);
    this.stages = { ...stages, detector: this.follower };
    this.tracker = options.tracker ?? new FaceTracker();
  }

  get detectEvery(): number {
    return this.follower.detectEvery;
  }

  set detectEvery(n: number) {
    checkDetectEvery(n);
    this.follower.detectEvery = n;
  }

  /** Analyse the stream's next frame. */
  async analyze(image: RgbImage, decodeMs = 0): Promise<VideoFrameAnalysis> {
    const r = await runPipeline(this.stages, image, this.detectOptions, decodeMs, (boxes) =>
      this.tracker.reusableExpressions(boxes),
    );
    const detected = this.follower.lastWasDetection;
    this.follower.observe(r.faces, image.width, image.height, this.detectOptions.minFaceSize);
    return { ...r, faces: this.tracker.update(r.faces), detected };
  }

  /** Forget faces (e.g. a new video): ids restart at 1 and the next frame is detected. */
  reset(): void {
    this.tracker.reset();
    this.follower.reset();
  }
}
