/** Browser host adapter for pixels: any browser image source to RgbImage, through a reused 2D canvas. */
import { FerkitError } from '../errors.js';
import { toRgb } from '../image/ops.js';
import type { RgbImage } from '../types.js';

/** Everything analyze() accepts. */
export type BrowserImageInput =
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLVideoElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | VideoFrame;

/** The pixels of any browser image source as RGB (alpha dropped), drawn at its natural size. */
export class FrameReader {
  private canvas: OffscreenCanvas | HTMLCanvasElement | null = null;
  private ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null = null;

  read(input: BrowserImageInput): RgbImage {
    if (typeof ImageData !== 'undefined' && input instanceof ImageData) {
      return toRgb(input.width, input.height, input.data, 4);
    }
    const [width, height] = sourceSize(input);
    if (!(width > 0 && height > 0)) {
      throw new FerkitError(
        'E_INPUT',
        `image source has no pixels yet (${width}x${height}): not loaded or no video frame`,
      );
    }
    const ctx = this.context(width, height);
    ctx.drawImage(input as CanvasImageSource, 0, 0, width, height);
    const data = ctx.getImageData(0, 0, width, height).data;
    return toRgb(width, height, data, 4);
  }

  private context(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
    if (!this.canvas) {
      this.canvas =
        typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : document.createElement('canvas');
    }
    if (this.canvas.width !== width || this.canvas.height !== height || !this.ctx) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.ctx = this.canvas.getContext('2d', { willReadFrequently: true }) as
        | OffscreenCanvasRenderingContext2D
        | CanvasRenderingContext2D
        | null;
      if (!this.ctx) throw new FerkitError('E_INPUT', 'cannot create a 2D canvas context to read pixels');
    }
    return this.ctx;
  }
}

/** Natural pixel size of a browser image source. */
export function sourceSize(input: BrowserImageInput): [number, number] {
  const g = globalThis as Record<string, unknown>;
  const is = (name: string) => typeof g[name] === 'function' && input instanceof (g[name] as new () => unknown);
  if (is('HTMLVideoElement')) return [(input as HTMLVideoElement).videoWidth, (input as HTMLVideoElement).videoHeight];
  if (is('HTMLImageElement'))
    return [(input as HTMLImageElement).naturalWidth, (input as HTMLImageElement).naturalHeight];
  if (is('VideoFrame')) return [(input as VideoFrame).displayWidth, (input as VideoFrame).displayHeight];
  const s = input as { width?: number; height?: number };
  if (typeof s.width === 'number' && typeof s.height === 'number') return [s.width, s.height];
  throw new FerkitError(
    'E_INPUT',
    'analyze(): expected ImageData, ImageBitmap, an <img>, <video> or <canvas>, or a VideoFrame',
  );
}
