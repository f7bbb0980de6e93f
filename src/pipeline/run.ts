/** The pipeline on one decoded image: detect → landmarks → align → expression. Host-free. */
import { alignFace } from '../align/align.js';
import type { DetectOptions, FaceDetector } from '../detect/types.js';
import type { ExpressionClassifier } from '../expression/classifier.js';
import { toExpressionResult } from '../expression/classifier.js';
import type { LandmarkModel } from '../landmarks/types.js';
import { type Box, EXPRESSION_LABELS, type ExpressionProbabilities, type RgbImage } from '../types.js';
import type { AnalysisResult } from './types.js';

export interface PipelineStages {
  detector: FaceDetector;
  landmarks: LandmarkModel;
  classifier: ExpressionClassifier;
}

const now = (): number => performance.now();

/**
 * For each face box (after landmarks), probabilities to reuse instead of classifying the face, or
 * undefined to classify it: how video mode spreads expression work over frames (FaceTracker).
 */
export type ExpressionReuse = (boxes: readonly Box[]) => (ExpressionProbabilities | undefined)[];

export async function runPipeline(
  stages: PipelineStages,
  image: RgbImage,
  detectOptions: DetectOptions,
  decodeMs = 0,
  reuseExpressions?: ExpressionReuse,
): Promise<AnalysisResult> {
  const t0 = now();
  const detections = await stages.detector.detect(image, detectOptions);
  const t1 = now();
  const found = detections.map((d) => d.box);
  const allPoints = found.length ? await stages.landmarks.detect(image, found) : [];
  // a box entirely outside the image has no landmarks and cannot be aligned: drop it
  const kept = detections.filter((_, i) => allPoints[i].length === 68);
  const points = allPoints.filter((p) => p.length === 68);
  const t2 = now();
  const reused = reuseExpressions?.(kept.map((d) => d.box)) ?? kept.map(() => undefined);
  const toClassify = points.flatMap((p, i) => (reused[i] ? [] : [p]));
  const crops = toClassify.map((p) => alignFace(image, p));
  const t3 = now();
  const probs = crops.length ? await stages.classifier.probabilities(crops) : [];
  const t4 = now();
  let next = 0;
  return {
    width: image.width,
    height: image.height,
    faces: kept.map((d, i) => {
      const r = reused[i];
      return {
        box: d.box,
        score: d.score,
        landmarks: points[i],
        ...(r
          ? { expression: toExpressionResult(EXPRESSION_LABELS.map((l) => r[l])), expressionReused: true }
          : { expression: toExpressionResult(probs[next++]) }),
      };
    }),
    timings: {
      decode: decodeMs,
      detect: t1 - t0,
      landmarks: t2 - t1,
      align: t3 - t2,
      expression: t4 - t3,
      total: decodeMs + (t4 - t0),
    },
  };
}
