/** face-api itself (node-wasm build) and its demo photos, for the tests that compare ferkit with it. */
import { createRequire } from 'node:module';
import sharp from 'sharp';
import type { Box, RgbImage } from '../../src/types.js';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: face-api's node-wasm bundle is untyped CommonJS here
export const faceapi: any = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
// biome-ignore lint/suspicious/noExplicitAny: the tfjs bundled with face-api, untyped likewise
export const tf: any = faceapi.tf;

/** Path of face-api's demo photo sample<i>.jpg (i = 1..6). */
export function samplePath(i: number): string {
  return require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`);
}

/** Demo photo `i` as RGB pixels, EXIF orientation applied first, resized to `width` when given. */
export async function loadSample(i: number, width?: number): Promise<RgbImage> {
  let s = sharp(samplePath(i)).rotate();
  if (width) s = s.resize(width);
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** A face-api box (Box / Rect class instance) as a plain ferkit Box. */
// biome-ignore lint/suspicious/noExplicitAny: face-api result objects
export const toBox = (b: any): Box => ({ x: b.x, y: b.y, width: b.width, height: b.height });
