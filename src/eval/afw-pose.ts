/**
 * AFW broken down by head pose: each annotated face's yaw is estimated from its ground-truth 68
 * points (src/eval/head-pose.ts), never from a detection, so every detector and landmark model is
 * scored on the same faces per bin. Recall and NME per bin come from summarizeAfw restricted to
 * the bin's faces, so the bins add up to the overall numbers.
 */

import type { AfwImage } from './afw.js';
import { type AfwDetectorSummary, type AfwImageResult, summarizeAfw } from './afw-metrics.js';
import { estimateHeadPose, POSE_BINS, type PoseBin, poseBin } from './head-pose.js';

/** Pose of one annotated face, angles in degrees. */
export interface AfwFacePose {
  yaw: number;
  pitch: number;
  roll: number;
  bin: PoseBin;
}

export interface AfwPoseBinSummary {
  bin: PoseBin;
  faces: number;
  recall: AfwDetectorSummary['recall'];
  nme: AfwDetectorSummary['nme'];
}

export interface AfwPoseReport {
  /** Annotated faces per bin. */
  bins: { bin: PoseBin; faces: number }[];
  /** |yaw| over all faces, degrees. */
  absYaw: { median: number; p90: number; max: number };
  /** Per detector (same order and labels as the report's summaries): its numbers per bin. */
  detectors: { label: string; bins: AfwPoseBinSummary[] }[];
}

/** Pose of every annotated face, per photo then per face (the annotation order). */
export function afwFacePoses(truth: readonly AfwImage[]): AfwFacePose[][] {
  return truth.map((t) =>
    t.faces.map((points, k) => {
      try {
        const { yaw, pitch, roll } = estimateHeadPose(points);
        return { yaw, pitch, roll, bin: poseBin(yaw) };
      } catch (e) {
        throw new Error(`${t.file}: face ${k}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }),
  );
}

/** One detector's recall and NME per pose bin (bins of the GT faces, `poses` from afwFacePoses). */
export function summarizeAfwByPose(
  label: string,
  results: readonly AfwImageResult[],
  truth: readonly AfwImage[],
  poses: readonly AfwFacePose[][],
): AfwPoseBinSummary[] {
  return POSE_BINS.map((bin) => {
    const s = summarizeAfw(label, results, truth, (i, g) => poses[i][g].bin === bin);
    return { bin, faces: s.faces, recall: s.recall, nme: s.nme };
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.round(q * (sorted.length - 1))] : Number.NaN;
}

/** The pose section of the AFW report: the bin distribution and every detector's numbers per bin. */
export function afwPoseReport(
  labels: readonly string[],
  results: readonly (readonly AfwImageResult[])[],
  truth: readonly AfwImage[],
  poses: readonly AfwFacePose[][],
): AfwPoseReport {
  const all = poses.flat();
  const absYaw = all.map((p) => Math.abs(p.yaw)).sort((a, b) => a - b);
  return {
    bins: POSE_BINS.map((bin) => ({ bin, faces: all.filter((p) => p.bin === bin).length })),
    absYaw: { median: quantile(absYaw, 0.5), p90: quantile(absYaw, 0.9), max: quantile(absYaw, 1) },
    detectors: labels.map((label, d) => ({ label, bins: summarizeAfwByPose(label, results[d], truth, poses) })),
  };
}
