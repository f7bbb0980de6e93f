/**
 * Browser host adapter: a user's file (Blob) to an ImageBitmap, through the same byte allowlist
 * and limits as the Node decoder (image/format.ts) before the browser's own decoder sees it.
 * Uses only the globals createImageBitmap and Blob.
 */
import { FerkitError } from '../errors.js';
import { checkImageBytes, DEFAULT_MAX_JPEG_SCANS } from '../image/format.js';

export interface BlobDecodeOptions {
  /** Encoded bytes (default 100 MiB, as in Node). */
  maxBytes?: number;
  /** Decoded pixels, from the bitmap's size (default 40 MP, as in Node). */
  maxPixels?: number;
  maxJpegScans?: number;
}

/** Decode an image file chosen or dropped by the user; E_DECODE / E_TOO_LARGE / E_EMPTY naming `name`. */
export async function decodeImageBlob(
  blob: Blob,
  name = 'image',
  options: BlobDecodeOptions = {},
): Promise<ImageBitmap> {
  const maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
  const maxPixels = options.maxPixels ?? 40_000_000;
  if (blob.size > maxBytes)
    throw new FerkitError('E_TOO_LARGE', `${name}: ${blob.size} bytes is over the limit of ${maxBytes}`);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const format = checkImageBytes(bytes, name, {
    maxBytes,
    maxJpegScans: options.maxJpegScans ?? DEFAULT_MAX_JPEG_SCANS,
  });
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: `image/${format}` }));
  } catch (e) {
    throw new FerkitError(
      'E_DECODE',
      `${name}: this browser cannot decode this ${format.toUpperCase()} (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  if (bitmap.width * bitmap.height > maxPixels) {
    bitmap.close();
    throw new FerkitError(
      'E_TOO_LARGE',
      `${name}: ${bitmap.width}x${bitmap.height} is over the limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
    );
  }
  return bitmap;
}
