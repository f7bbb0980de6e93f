/**
 * Head pose from 68 points (src/eval/head-pose.ts): synthetic faces projected from the generic 3D
 * face at known angles (with noise) come back within a few degrees; mirroring negates yaw and roll;
 * on real AFW annotations (when present) the yaw distribution is plausible and mirror-symmetric.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultAfwDir, loadAfwAnnotations } from '../src/eval/afw.js';
import {
  estimateHeadPose,
  GENERIC_FACE_3D,
  IBUG68_MIRROR,
  POSE_BINS,
  POSE_FIT_POINTS,
  poseBin,
  poseRotation,
  projectPoints,
} from '../src/eval/head-pose.js';
import type { Point } from '../src/types.js';

/** Deterministic uniform noise in [-1, 1) (a small LCG), so a failure reproduces. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** The generic face at a pose, ~100 px between the outer eye corners, plus uniform noise of ±amp px. */
function synthetic(yaw: number, pitch: number, roll: number, amp = 0, seed = 1): Point[] {
  const rand = noise(seed);
  return projectPoints(GENERIC_FACE_3D, poseRotation(yaw, pitch, roll), 100 / 90, [320, 240]).map(
    ([x, y]) => [x + amp * rand(), y + amp * rand()] as Point,
  );
}

/** A face as it appears in the horizontally flipped photo: x → width − x, and left/right points swapped. */
function mirror(points: readonly Point[], width: number): Point[] {
  return IBUG68_MIRROR.map((j) => [width - points[j][0], points[j][1]] as Point);
}

describe('head pose from 68 points', () => {
  it('the mirror table is an involution that swaps the outer eye corners and keeps the nose line', () => {
    expect(IBUG68_MIRROR.map((j) => IBUG68_MIRROR[j])).toEqual(IBUG68_MIRROR.map((_, i) => i));
    expect(IBUG68_MIRROR[36]).toBe(45);
    expect(IBUG68_MIRROR[0]).toBe(16);
    for (const k of [8, 27, 28, 29, 30, 33, 51, 57, 62, 66]) expect(IBUG68_MIRROR[k]).toBe(k);
    // The generic face is symmetric: every point's mirror has the negated x.
    expect(GENERIC_FACE_3D.map((_, i) => GENERIC_FACE_3D[IBUG68_MIRROR[i]])).toEqual(
      GENERIC_FACE_3D.map(([x, y, z]) => [-x || 0, y, z]),
    );
  });

  it('recovers known yaw, pitch and roll of exact projections', () => {
    for (const [yaw, pitch, roll] of [
      [0, 0, 0],
      [30, -10, 5],
      [-60, 20, -15],
      [80, 0, 0],
      [10, 30, 40],
    ]) {
      const p = estimateHeadPose(synthetic(yaw, pitch, roll));
      expect(p.yaw).toBeCloseTo(yaw, 6);
      expect(p.pitch).toBeCloseTo(pitch, 6);
      expect(p.roll).toBeCloseTo(roll, 6);
      expect(p.scale).toBeCloseTo(100 / 90, 6);
      expect(p.residual).toBeLessThan(1e-6);
    }
  });

  it('signs: positive yaw moves the nose toward the image right, positive pitch up, positive roll clockwise', () => {
    const mid = (p: Point[], a: number, b: number) => [(p[a][0] + p[b][0]) / 2, (p[a][1] + p[b][1]) / 2];
    const turned = synthetic(25, 0, 0);
    expect(turned[30][0]).toBeGreaterThan(mid(turned, 36, 45)[0] + 10);
    const up = synthetic(0, 20, 0);
    const level = synthetic(0, 0, 0);
    // Looking up: the nose tip rises relative to the eye corners.
    expect(up[30][1] - mid(up, 36, 45)[1]).toBeLessThan(level[30][1] - mid(level, 36, 45)[1] - 5);
    const tilted = synthetic(0, 0, 20);
    expect(tilted[45][1]).toBeGreaterThan(tilted[36][1] + 20); // the image-right eye goes down
  });

  it('with ±3 px noise on a ~100 px face, angles come back within a few degrees', () => {
    let seed = 7;
    for (const yaw of [-50, -30, -10, 0, 10, 30, 50]) {
      for (const [pitch, roll] of [
        [0, 0],
        [-15, 10],
        [15, -10],
      ]) {
        const p = estimateHeadPose(synthetic(yaw, pitch, roll, 3, seed++));
        expect(Math.abs(p.yaw - yaw), `yaw ${yaw} pitch ${pitch} roll ${roll}: got ${p.yaw}`).toBeLessThan(4);
        expect(Math.abs(p.pitch - pitch)).toBeLessThan(5);
        expect(Math.abs(p.roll - roll)).toBeLessThan(3);
      }
    }
  });

  it('ignores the jaw and the lower and inner lips (they slide or move with the mouth)', () => {
    const pts = synthetic(35, -5, 8);
    const garbled = pts.map((p, k) => (POSE_FIT_POINTS.includes(k) ? p : ([k * 37, 900 - k] as Point)));
    const a = estimateHeadPose(pts);
    const b = estimateHeadPose(garbled);
    expect(b.yaw).toBeCloseTo(a.yaw, 9);
    expect(b.pitch).toBeCloseTo(a.pitch, 9);
    expect(POSE_FIT_POINTS).not.toContain(8);
    expect(POSE_FIT_POINTS).not.toContain(57);
    expect(POSE_FIT_POINTS).toContain(30);
  });

  it('a mirrored face gets the negated yaw and roll and the same pitch', () => {
    const pts = synthetic(28, 12, -9, 2, 3);
    const p = estimateHeadPose(pts);
    const m = estimateHeadPose(mirror(pts, 640));
    expect(m.yaw).toBeCloseTo(-p.yaw, 9);
    expect(m.roll).toBeCloseTo(-p.roll, 9);
    expect(m.pitch).toBeCloseTo(p.pitch, 9);
    expect(Math.abs(p.yaw - 28)).toBeLessThan(4);
  });

  it('bins by |yaw|: frontal below 15°, then 15–45°, then beyond; bad input is named', () => {
    expect(POSE_BINS).toEqual(['frontal', 'yaw 15–45°', 'yaw > 45°']);
    expect([0, 14.9, -14.9, 15, -30, 44.9, 45, -80].map(poseBin)).toEqual([
      'frontal',
      'frontal',
      'frontal',
      'yaw 15–45°',
      'yaw 15–45°',
      'yaw 15–45°',
      'yaw > 45°',
      'yaw > 45°',
    ]);
    expect(() => poseBin(Number.NaN)).toThrow(/yaw/);
    expect(() => estimateHeadPose(synthetic(0, 0, 0).slice(0, 60))).toThrow(/68 points/);
    const broken = synthetic(0, 0, 0);
    broken[30] = [Number.NaN, 1];
    expect(() => estimateHeadPose(broken)).toThrow(/point 30/);
    expect(() => estimateHeadPose(Array.from({ length: 68 }, () => [5, 5] as Point))).toThrow(/degenerate/);
  });
});

const AFW_DIR = defaultAfwDir();
describe.skipIf(!existsSync(`${AFW_DIR}/landmarks68.json`))('head pose on the AFW annotations (real data)', () => {
  it('the yaw distribution is plausible and the fit is good', async () => {
    const images = await loadAfwAnnotations(AFW_DIR);
    const poses = images.flatMap((im) =>
      im.faces.map((f) => ({ pose: estimateHeadPose(f), mirrored: estimateHeadPose(mirror(f, im.width)) })),
    );
    const yaw = poses.map((p) => p.pose.yaw);
    const counts = POSE_BINS.map((b) => yaw.filter((y) => poseBin(y) === b).length);
    const sorted = yaw.map(Math.abs).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.round(q * (sorted.length - 1))];
    console.log(
      `AFW head pose, ${yaw.length} faces: ${POSE_BINS.map((b, i) => `${b} ${counts[i]}`).join(', ')}; ` +
        `|yaw| median ${at(0.5).toFixed(1)}°, p90 ${at(0.9).toFixed(1)}°, max ${at(1).toFixed(1)}°; ` +
        `turned to the image right ${yaw.filter((y) => y > 0).length}, left ${yaw.filter((y) => y < 0).length}`,
    );
    expect(yaw.length).toBe(337);
    // 300-W annotated semi-frontal faces: most are within 45°, yet many are clearly turned.
    expect(counts[0]).toBeGreaterThan(0.3 * yaw.length);
    expect(counts[1]).toBeGreaterThan(0.2 * yaw.length);
    expect(at(1)).toBeLessThan(90);
    // No strong left/right bias in a collection of photos.
    expect(Math.abs(yaw.filter((y) => y > 0).length / yaw.length - 0.5)).toBeLessThan(0.15);
    for (const p of poses) expect(p.mirrored.yaw).toBeCloseTo(-p.pose.yaw, 6);
    // Residual (model mm): a rigid generic face fits real faces to a few mm.
    const residuals = poses.map((p) => p.pose.residual).sort((a, b) => a - b);
    expect(residuals[residuals.length >> 1]).toBeLessThan(8);
  });
});
