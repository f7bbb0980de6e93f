import type { Box, Point, RgbImage } from '../types.js';

/** 68 iBUG points for each face box, in image pixels. */
export interface LandmarkModel {
  readonly name: string;
  detect(image: RgbImage, boxes: readonly Box[]): Promise<Point[][]>;
  dispose(): Promise<void> | void;
}
