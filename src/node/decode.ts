/** Node host adapter: files and encoded bytes to RgbImage, with sharp. */
import { readFile, stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { FerkitError } from '../errors.js';
import { checkImageBytes, DEFAULT_MAX_JPEG_SCANS, type ImageFormat } from '../image/format.js';
import { toRgb } from '../image/ops.js';
import type { RgbImage } from '../types.js';

/** 40 megapixels: a 4:3 photo of 7300×5470. Larger inputs are refused before decoding. */
export const DEFAULT_MAX_PIXELS = 40_000_000;
/** 100 MiB of encoded bytes. */
export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;

export interface DecodeOptions {
  maxPixels?: number;
  maxBytes?: number;
  /** Progressive JPEG scans (default DEFAULT_MAX_JPEG_SCANS, 100). */
  maxJpegScans?: number;
}

/** The libvips loader (metadata().format) each accepted format must be read by. */
const LOADER: Record<ImageFormat, string> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif',
};

/** Raw pixels handed in directly (RGB, RGBA or grey), e.g. from a canvas or a video decoder. */
export interface RawPixels {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels: 1 | 3 | 4;
}

export type ImageInput = string | Uint8Array | RawPixels;

export function isRawPixels(input: unknown): input is RawPixels {
  return typeof input === 'object' && input !== null && !ArrayBuffer.isView(input) && 'channels' in input;
}

export async function readImageFile(path: string, options: DecodeOptions = {}): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new FerkitError('E_INPUT', `${path}: not a file`);
    size = s.size;
  } catch (e) {
    if (e instanceof FerkitError) throw e;
    throw new FerkitError('E_NOT_FOUND', `${path}: no such file`, { cause: e });
  }
  if (size === 0) throw new FerkitError('E_EMPTY', `${path}: file is empty (0 bytes)`);
  if (size > maxBytes) throw new FerkitError('E_TOO_LARGE', `${path}: ${size} bytes is over the limit of ${maxBytes}`);
  return readFile(path);
}

/** A libvips failure as a FerkitError: its own pixel limit (a header too large to read) is E_TOO_LARGE. */
function decodeError(source: string, what: string, e: unknown, maxPixels: number): FerkitError {
  const message = (e as Error).message;
  if (/exceeds pixel limit/.test(message))
    return new FerkitError('E_TOO_LARGE', `${source}: image is over the limit of ${(maxPixels / 1e6).toFixed(1)} MP`, {
      cause: e,
    });
  return new FerkitError('E_DECODE', `${source}: ${what} (${message})`, { cause: e });
}

/**
 * Decode encoded image bytes to 8-bit sRGB, honouring EXIF orientation. Only the formats of
 * image/format.ts are accepted, decided from the bytes; animations give their first frame.
 * Work is bounded before decoding: bytes, header pixels, progressive JPEG scans. `source` names
 * the input in errors.
 */
export async function decodeImageBytes(
  bytes: Uint8Array,
  source: string,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = checkImageBytes(bytes, source, {
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    maxJpegScans: options.maxJpegScans ?? DEFAULT_MAX_JPEG_SCANS,
  });
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { pages: 1 }).metadata();
  } catch (e) {
    throw decodeError(source, `not a readable ${format.toUpperCase()}`, e, maxPixels);
  }
  // libvips picks its loader from the bytes too; a polyglot that it reads as something else
  // (or an HEIF whose payload is HEVC, not AV1) is refused rather than handed to another decoder.
  if (meta.format !== LOADER[format] || (format === 'avif' && meta.compression !== 'av1'))
    throw new FerkitError(
      'E_DECODE',
      `${source}: unsupported format (starts like ${format.toUpperCase()} but reads as ${meta.format}${meta.compression ? `/${meta.compression}` : ''})`,
    );
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > maxPixels) {
    throw new FerkitError(
      'E_TOO_LARGE',
      `${source}: ${meta.width}x${meta.height} = ${(pixels / 1e6).toFixed(1)} MP is over the limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: maxPixels,
      failOn: 'warning',
      pages: 1, // first frame of an animation only
      sequentialRead: true,
    })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return toRgb(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length), info.channels);
  } catch (e) {
    throw decodeError(source, 'cannot decode image', e, maxPixels);
  }
}

/** Any supported input to an RgbImage: a file path, encoded bytes, or raw pixels. */
export async function decodeImage(input: ImageInput, options: DecodeOptions = {}, name?: string): Promise<RgbImage> {
  if (typeof input === 'string') return decodeImageBytes(await readImageFile(input, options), name ?? input, options);
  if (isRawPixels(input)) {
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (input.width * input.height > maxPixels) {
      throw new FerkitError(
        'E_TOO_LARGE',
        `${name ?? 'raw pixels'}: ${input.width}x${input.height} is over the pixel limit`,
      );
    }
    return toRgb(input.width, input.height, input.data, input.channels);
  }
  if (input instanceof Uint8Array) return decodeImageBytes(input, name ?? 'buffer', options);
  throw new FerkitError(
    'E_INPUT',
    `${name ?? 'input'}: expected a path, a Buffer/Uint8Array or { width, height, data, channels }`,
  );
}
