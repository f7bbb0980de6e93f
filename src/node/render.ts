/** Node host adapter for rendering: RgbImage + overlay → PNG/JPEG bytes via @napi-rs/canvas. */
import { createCanvas } from '@napi-rs/canvas';
import type { FaceResult } from '../pipeline/types.js';
import { type Canvas2D, drawOverlay, type OverlayOptions } from '../render/overlay.js';
import type { RgbImage } from '../types.js';

export type ImageFormat = 'png' | 'jpeg';

export interface RenderOptions extends OverlayOptions {
  format?: ImageFormat;
  /** JPEG quality 1..100. */
  quality?: number;
}

export function drawAnnotated(image: RgbImage, faces: readonly FaceResult[], options: OverlayOptions = {}) {
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  const imageData = ctx.createImageData(image.width, image.height);
  const rgba = imageData.data;
  const rgb = image.data;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgba[i] = rgb[j];
    rgba[i + 1] = rgb[j + 1];
    rgba[i + 2] = rgb[j + 2];
    rgba[i + 3] = 255;
  }
  ctx.putImageData(imageData, 0, 0);
  drawOverlay(ctx as unknown as Canvas2D, faces, image.width, image.height, options);
  return canvas;
}

export async function renderAnnotated(
  image: RgbImage,
  faces: readonly FaceResult[],
  options: RenderOptions = {},
): Promise<Buffer> {
  const canvas = drawAnnotated(image, faces, options);
  return options.format === 'jpeg' ? canvas.encode('jpeg', options.quality ?? 90) : canvas.encode('png');
}
