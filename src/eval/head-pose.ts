/**
 * Head pose (yaw, pitch, roll) from 68 iBUG points, by a least-squares weak-perspective (scaled
 * orthographic) fit of a generic 3D face to the 2D points; used to break the AFW benchmark down by
 * pose (src/eval/afw-pose.ts).
 *
 * Conventions (image axes: x right, y down; the camera looks along +z):
 *  - yaw > 0: the face turns so that its nose points toward the image's right (the subject turns
 *    to their own left); a frontal face has yaw 0, a profile ±90°.
 *  - pitch > 0: the face looks up (nose toward the image's top).
 *  - roll > 0: the head is tilted clockwise on screen (the eye on the image's right goes down).
 *  Rotation model → camera: R = Rz(roll) · Ry(−yaw) · Rx(−pitch), in that order (pitch first).
 *
 * The fit uses only points that sit on the skull rigidly enough: brows, nose, eyes and the upper
 * lip with the mouth corners (17–54). The jaw points (0–16) are left out because they are a
 * silhouette that slides over the cheek as the head turns, and the lower and inner lips (55–67)
 * because they move with the jaw when the mouth opens.
 */
import type { Point } from '../types.js';

export type Vec3 = [number, number, number];

/** iBUG 68 index of each point's mirror image (left ↔ right); centre-line points map to themselves. */
export const IBUG68_MIRROR: readonly number[] = (() => {
  // biome-ignore format: one pair per group
  const pairs: [number, number][] = [
    ...Array.from({ length: 8 }, (_, i) => [i, 16 - i] as [number, number]), // jaw
    [17, 26], [18, 25], [19, 24], [20, 23], [21, 22], // brows
    [31, 35], [32, 34], // nose base
    [36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46], // eyes
    [48, 54], [49, 53], [50, 52], [55, 59], [56, 58], // outer lips
    [60, 64], [61, 63], [65, 67], // inner lips
  ];
  const m = Array.from({ length: 68 }, (_, i) => i);
  for (const [a, b] of pairs) {
    m[a] = b;
    m[b] = a;
  }
  return m;
})();

/**
 * A generic adult face in millimetres (x right as seen in a frontal photo, y down, z away from
 * the camera: the nose tip has the smallest z), hand-built from typical adult proportions in
 * anthropometric norms (Farkas, "Anthropometry of the Head and Face", 2nd ed., 1994): outer eye
 * corners 90 mm apart, inner 33 mm, mouth 50 mm wide, nose tip ~42 mm in front of the outer eye
 * corners, nasion–subnasale ~42 mm, subnasale–stomion ~21 mm. The nose and brow depths were
 * cross-checked against a rigid affine factorization (Tomasi–Kanade) of the 870 HELEN training
 * annotations (nose tip 42 mm, nasion 24 mm in front of the outer eye corners there); yaw scales
 * roughly inversely with these depths, so they set where the 15° and 45° bin edges fall. Only the image-left half and the
 * centre line are written here; the right half is their mirror image, so the model is exactly
 * symmetric and a mirrored photo gets exactly the negated yaw and roll. Rough values: a pose
 * estimate good to a few degrees, which is what binning by pose needs.
 */
// biome-ignore format: one feature per line
const HALF_FACE: readonly (readonly [number, number, number, number])[] = [
  // index, x, y, z — jaw silhouette (not used by the fit; for drawing and synthetic tests)
  [0, -70, 5, 60], [1, -69, 22, 55], [2, -66, 39, 48], [3, -61, 55, 40], [4, -53, 70, 30],
  [5, -42, 84, 18], [6, -30, 95, 6], [7, -16, 103, -4], [8, 0, 106, -8],
  // brow, outer → inner
  [17, -50, -18, 7], [18, -42, -25, -2], [19, -32, -28, -9], [20, -22, -27, -15], [21, -12, -23, -18],
  // nose bridge (nasion → tip) and base
  [27, 0, -2, -16], [28, 0, 10, -22], [29, 0, 21, -28], [30, 0, 33, -36],
  [31, -15, 36, -12], [32, -8, 39, -17], [33, 0, 40, -19],
  // eye: outer corner, upper lid ×2, inner corner, lower lid ×2
  [36, -45, 0, 6], [37, -36, -4, 0], [38, -25, -4, -2], [39, -16.5, 0.5, 0], [40, -25, 3, -1], [41, -36, 3, 2],
  // outer lips: corner, upper lip ×3 (51 = top centre), lower lip
  [48, -25, 62, -4], [49, -17, 57, -12], [50, -8, 53, -17], [51, 0, 54, -18],
  [57, 0, 72, -16], [58, -8, 71, -15], [59, -17, 67, -10],
  // inner lips
  [60, -21, 62, -8], [61, -8, 61, -15], [62, 0, 61, -16], [66, 0, 63, -16], [67, -8, 63, -15],
];

/** The generic face, 68 points in iBUG order (see HALF_FACE). */
export const GENERIC_FACE_3D: readonly Vec3[] = (() => {
  const pts: (Vec3 | undefined)[] = Array.from({ length: 68 }, () => undefined);
  for (const [i, x, y, z] of HALF_FACE) {
    pts[i] = [x, y, z];
    const j = IBUG68_MIRROR[i];
    if (j !== i) pts[j] = [-x, y, z];
  }
  const missing = pts.indexOf(undefined);
  if (missing >= 0) throw new Error(`GENERIC_FACE_3D: point ${missing} is not defined`);
  return pts as Vec3[];
})();

/** Indices used by the fit: brows, nose, eyes, upper lip and mouth corners (see the module comment). */
export const POSE_FIT_POINTS: readonly number[] = Array.from({ length: 54 - 17 + 1 }, (_, k) => 17 + k);

export interface HeadPose {
  /** Degrees; see the module comment for the signs. */
  yaw: number;
  pitch: number;
  roll: number;
  /** Image pixels per model millimetre. */
  scale: number;
  /** RMS distance between the fitted points and the fitted model's projection, in model millimetres (pixels / scale). */
  residual: number;
}

const DEG = 180 / Math.PI;

/** 3×3 rotation (rows) for the given pose in degrees: R = Rz(roll) · Ry(−yaw) · Rx(−pitch). */
export function poseRotation(yaw: number, pitch: number, roll: number): Vec3[] {
  const mul = (a: Vec3[], b: Vec3[]): Vec3[] =>
    a.map((row) => [0, 1, 2].map((c) => row[0] * b[0][c] + row[1] * b[1][c] + row[2] * b[2][c]) as Vec3);
  const [cy, sy] = [Math.cos(-yaw / DEG), Math.sin(-yaw / DEG)];
  const [cp, sp] = [Math.cos(-pitch / DEG), Math.sin(-pitch / DEG)];
  const [cr, sr] = [Math.cos(roll / DEG), Math.sin(roll / DEG)];
  const rz: Vec3[] = [
    [cr, -sr, 0],
    [sr, cr, 0],
    [0, 0, 1],
  ];
  const ry: Vec3[] = [
    [cy, 0, sy],
    [0, 1, 0],
    [-sy, 0, cy],
  ];
  const rx: Vec3[] = [
    [1, 0, 0],
    [0, cp, -sp],
    [0, sp, cp],
  ];
  return mul(rz, mul(ry, rx));
}

/** Projects 3D points by scaled orthographic projection: s · (first two rows of R) · p + t. */
export function projectPoints(points: readonly Vec3[], rotation: readonly Vec3[], scale: number, t: Point): Point[] {
  const [r1, r2] = rotation;
  return points.map(([x, y, z]) => [
    t[0] + scale * (r1[0] * x + r1[1] * y + r1[2] * z),
    t[1] + scale * (r2[0] * x + r2[1] * y + r2[2] * z),
  ]);
}

/** Inverse of a symmetric 3×3 matrix (throws when singular). */
function invert3(m: readonly Vec3[]): Vec3[] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 1e-12)) throw new Error('head pose: degenerate 3D model');
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/**
 * Weak-perspective pose of a face from its 68 points (iBUG order, image pixels).
 * Least squares for the unconstrained 2×3 projection M (x ≈ M·X + t over POSE_FIT_POINTS), then
 * M's nearest scaled matrix with orthonormal rows (from M's SVD: U·Vᵀ, scale = mean singular
 * value); the third row of the rotation is the cross product of the first two.
 */
export function estimateHeadPose(points: readonly Point[], model: readonly Vec3[] = GENERIC_FACE_3D): HeadPose {
  if (points.length !== 68) throw new Error(`head pose: expected 68 points, got ${points.length}`);
  const idx = POSE_FIT_POINTS;
  for (const k of idx) {
    if (!points[k] || !Number.isFinite(points[k][0]) || !Number.isFinite(points[k][1])) {
      throw new Error(`head pose: point ${k} is not a finite [x, y]`);
    }
  }
  const n = idx.length;
  const mean3: Vec3 = [0, 0, 0];
  const mean2: Point = [0, 0];
  for (const k of idx) {
    for (let a = 0; a < 3; a++) mean3[a] += model[k][a] / n;
    mean2[0] += points[k][0] / n;
    mean2[1] += points[k][1] / n;
  }
  // Normal equations: M = (Σ x Xᵀ) (Σ X Xᵀ)⁻¹ over centred points.
  const xx: Vec3[] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const yx: Vec3[] = [
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (const k of idx) {
    const X = [model[k][0] - mean3[0], model[k][1] - mean3[1], model[k][2] - mean3[2]];
    const y = [points[k][0] - mean2[0], points[k][1] - mean2[1]];
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) xx[a][b] += X[a] * X[b];
      yx[0][a] += y[0] * X[a];
      yx[1][a] += y[1] * X[a];
    }
  }
  const inv = invert3(xx);
  const M = yx.map((row) => [0, 1, 2].map((c) => row[0] * inv[0][c] + row[1] * inv[1][c] + row[2] * inv[2][c]) as Vec3);
  // SVD of the 2×3 M through the eigen-decomposition of the 2×2 M·Mᵀ.
  const p = M[0][0] ** 2 + M[0][1] ** 2 + M[0][2] ** 2;
  const q = M[0][0] * M[1][0] + M[0][1] * M[1][1] + M[0][2] * M[1][2];
  const r = M[1][0] ** 2 + M[1][1] ** 2 + M[1][2] ** 2;
  const half = Math.hypot((p - r) / 2, q);
  const l1 = (p + r) / 2 + half;
  const l2 = (p + r) / 2 - half;
  if (!(l2 > 1e-12 * l1)) throw new Error('head pose: the points are degenerate (collinear or coincident)');
  const theta = 0.5 * Math.atan2(2 * q, p - r); // u1 = (cos θ, sin θ), u2 = (−sin θ, cos θ)
  const u: [Point, Point] = [
    [Math.cos(theta), Math.sin(theta)],
    [-Math.sin(theta), Math.cos(theta)],
  ];
  const sigma = [Math.sqrt(l1), Math.sqrt(l2)];
  const v = u.map((ui, i) => [0, 1, 2].map((c) => (ui[0] * M[0][c] + ui[1] * M[1][c]) / sigma[i]) as Vec3);
  // Rows of U·Vᵀ: r_a = Σ_i U[a][i] · v_i.
  const row = (a: 0 | 1): Vec3 => [0, 1, 2].map((c) => u[0][a] * v[0][c] + u[1][a] * v[1][c]) as Vec3;
  const r1 = row(0);
  const r2 = row(1);
  const r3: Vec3 = [r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2], r1[0] * r2[1] - r1[1] * r2[0]];
  const scale = (sigma[0] + sigma[1]) / 2;
  // R = Rz(roll)·Ry(b)·Rx(a) has R[2][0] = −sin b, R[2][1] = cos b sin a, R[1][0] = sin(roll) cos b.
  const b = -Math.asin(Math.max(-1, Math.min(1, r3[0])));
  const a = Math.atan2(r3[1], r3[2]);
  const roll = Math.atan2(r2[0], r1[0]);
  // Residual of the constrained fit (the translation of both is the centroid's).
  const centred = idx.map((k) => [model[k][0] - mean3[0], model[k][1] - mean3[1], model[k][2] - mean3[2]] as Vec3);
  const fitted = projectPoints(centred, [r1, r2, r3], scale, mean2);
  const sq = idx.reduce(
    (sum, k, m) => sum + (points[k][0] - fitted[m][0]) ** 2 + (points[k][1] - fitted[m][1]) ** 2,
    0,
  );
  return { yaw: -b * DEG, pitch: -a * DEG, roll: roll * DEG, scale, residual: Math.sqrt(sq / n) / scale };
}

// ---------------------------------------------------------------------------------------------
// Bins

/** Yaw bins of the AFW breakdown: |yaw| < 15°, 15–45°, ≥ 45°. */
export const POSE_BINS = ['frontal', 'yaw 15–45°', 'yaw > 45°'] as const;
export type PoseBin = (typeof POSE_BINS)[number];

/** The bin of a yaw in degrees (its sign is ignored). */
export function poseBin(yaw: number): PoseBin {
  const a = Math.abs(yaw);
  if (!Number.isFinite(a)) throw new Error(`poseBin: yaw ${yaw} is not a number`);
  return a < 15 ? POSE_BINS[0] : a < 45 ? POSE_BINS[1] : POSE_BINS[2];
}
