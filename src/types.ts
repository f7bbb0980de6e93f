/** Plain data exchanged between pipeline stages. No stage imports a host package. */

/** 8-bit RGB pixels, interleaved, row-major (3 bytes per pixel). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** 8-bit grey pixels, row-major (1 byte per pixel). */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** An axis-aligned box in image pixels; (x, y) is the top-left corner. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point = [x: number, y: number];

/** The 7 FER2013 expressions, in the dataset's label order (index = FER2013 label). */
export const EXPRESSION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type ExpressionLabel = (typeof EXPRESSION_LABELS)[number];
export type ExpressionProbabilities = Record<ExpressionLabel, number>;

export interface Detection {
  box: Box;
  score: number;
}
