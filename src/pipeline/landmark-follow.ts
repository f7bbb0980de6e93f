/**
 * Run the face detector on key frames only and follow faces by their landmarks in between: the
 * host-free half of video mode, used by the browser analyzer and by Node's `ferkit video` and
 * `ferkit camera` (`--detect-every`).
 */
import type { DetectOptions, FaceDetector } from '../detect/types.js';
import { intersectionArea, pointsBox } from '../image/ops.js';
import type { Box, Detection, RgbImage } from '../types.js';
import type { FaceResult } from './types.js';

interface Followed {
  /** Detector box relative to the landmarks' bounding box: [dx, dy, sw, sh] in units of that box. */
  rel: [number, number, number, number];
  score: number;
  box: Box;
  /** Centre velocity in pixels per frame (damped). */
  vx: number;
  vy: number;
}

/**
 * A FaceDetector for video that runs the real detector on key frames only (every Nth frame, and
 * whenever it follows no face) and otherwise returns the boxes implied by the previous frame's
 * landmarks: on a key frame it learns where the detector box sits relative to the points' bounding
 * box, and keeps that relation while the face moves. observe() must get each frame's results.
 */
export class LandmarkFollowingDetector implements FaceDetector {
  readonly name: string;
  detectEvery: number;
  private frame = 0;
  private followed: Followed[] = [];
  private lastKey = true;

  constructor(
    private readonly inner: FaceDetector,
    detectEvery: number,
  ) {
    this.name = `${inner.name}+landmark-follow`;
    this.detectEvery = detectEvery;
  }

  /** Whether the last detect() ran the real detector. */
  get lastWasDetection(): boolean {
    return this.lastKey;
  }

  async detect(image: RgbImage, options?: DetectOptions): Promise<Detection[]> {
    const key = this.detectEvery <= 1 || this.followed.length === 0 || this.frame % this.detectEvery === 0;
    this.frame++;
    this.lastKey = key;
    if (key) return this.inner.detect(image, options);
    return this.followed.map((f) => ({ box: f.box, score: f.score }));
  }

  /** Feed the pipeline's faces for the frame just detected (same order as detect() returned). */
  observe(faces: readonly FaceResult[], width: number, height: number, minFaceSize = 0): void {
    const next: Followed[] = [];
    faces.forEach((face, i) => {
      if (!face.landmarks?.length) return;
      const lb = pointsBox(face.landmarks);
      if (!(lb.width > 1 && lb.height > 1)) return;
      const prev = this.lastKey ? undefined : this.followed[i];
      const d = face.box;
      const rel: Followed['rel'] = prev
        ? prev.rel
        : [(d.x - lb.x) / lb.width, (d.y - lb.y) / lb.height, d.width / lb.width, d.height / lb.height];
      const box = {
        x: lb.x + rel[0] * lb.width,
        y: lb.y + rel[1] * lb.height,
        width: rel[2] * lb.width,
        height: rel[3] * lb.height,
      };
      // Damped constant-velocity prediction of where the face will be on the next frame.
      const pcx = prev ? prev.box.x + prev.box.width / 2 : box.x + box.width / 2;
      const pcy = prev ? prev.box.y + prev.box.height / 2 : box.y + box.height / 2;
      const vx = 0.5 * (box.x + box.width / 2 - pcx) + 0.5 * (prev?.vx ?? 0);
      const vy = 0.5 * (box.y + box.height / 2 - pcy) + 0.5 * (prev?.vy ?? 0);
      const predicted = { ...box, x: box.x + vx, y: box.y + vy };
      // Lost: mostly outside the image, or too small to be a face the detector would report.
      if (intersectionArea(predicted, { x: 0, y: 0, width, height }) < 0.5 * predicted.width * predicted.height) return;
      if (predicted.width < minFaceSize || predicted.height < minFaceSize) return;
      // Two followed faces that converged onto one: keep the first (higher detector score).
      if (
        next.some(
          (n) =>
            intersectionArea(n.box, predicted) >
            0.5 * Math.min(n.box.width * n.box.height, predicted.width * predicted.height),
        )
      )
        return;
      next.push({ rel, score: face.score, box: predicted, vx, vy });
    });
    this.followed = next;
  }

  reset(): void {
    this.followed = [];
    this.frame = 0;
  }

  dispose(): Promise<void> | void {
    return this.inner.dispose();
  }
}
