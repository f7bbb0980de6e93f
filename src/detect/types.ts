import type { Detection, RgbImage } from '../types.js';

export interface DetectOptions {
  /** Minimum detector confidence, 0..1. */
  scoreThreshold?: number;
  /** Faces whose box side is smaller than this many pixels are dropped. */
  minFaceSize?: number;
  maxFaces?: number;
}

/** Anything that finds faces: the SSD CNN (default) or the Haar cascade. */
export interface FaceDetector {
  readonly name: string;
  detect(image: RgbImage, options?: DetectOptions): Promise<Detection[]> | Detection[];
  dispose(): Promise<void> | void;
}
