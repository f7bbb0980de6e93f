import type { Box, ExpressionLabel, ExpressionProbabilities, Point } from '../types.js';

export interface FaceResult {
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  /** 68 iBUG points in image pixels. */
  landmarks: Point[];
  expression: { label: ExpressionLabel; probabilities: ExpressionProbabilities };
  /**
   * Video mode: true when this frame did not classify the face and `expression` repeats its track's
   * last classified probabilities (FaceTracker's `expressionEvery`).
   */
  expressionReused?: boolean;
}

/** Milliseconds per stage for one image. */
export interface StageTimings {
  decode: number;
  detect: number;
  landmarks: number;
  align: number;
  expression: number;
  total: number;
}

export interface AnalysisResult {
  width: number;
  height: number;
  faces: FaceResult[];
  timings: StageTimings;
}
