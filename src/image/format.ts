/**
 * The input allowlist, decided from the bytes (magic numbers), never from a file name or a
 * Content-Type: JPEG, PNG, WebP, GIF (first frame), TIFF and AVIF. Everything else — SVG, PDF,
 * text, archives, HEIC, BMP… — is refused before any decoder sees it, with the format named when
 * it can be recognised. Host-free: the Node decoder (sharp) and the browser decoder
 * (createImageBitmap) both call checkImageBytes, so the same bytes are accepted in both.
 */
import { FerkitError } from '../errors.js';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** Display names of the accepted formats, in the order the docs list them. */
export const ACCEPTED_IMAGE_FORMATS: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  avif: 'AVIF',
};

/**
 * Progressive JPEG scans allowed per image. A decoder walks every block of the image once per
 * scan, so a 400 KB JPEG of 6000×6000 with 2647 (valid) scans costs ~20 s to decode against ~2 s
 * for the same image with 100 scans. Encoders write 10 (libjpeg's progressive script) to ~20.
 */
export const DEFAULT_MAX_JPEG_SCANS = 100;

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

const startsWith = (bytes: Uint8Array, magic: readonly number[], at = 0): boolean =>
  bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);

/** Brands of an ISO-BMFF `ftyp` box (major brand first), or [] when the bytes do not start with one. */
function ftypBrands(bytes: Uint8Array): string[] {
  if (bytes.length < 16 || ascii(bytes, 4, 4) !== 'ftyp') return [];
  const size = Math.min(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0, bytes.length, 4096);
  const brands = [ascii(bytes, 8, 4)];
  for (let o = 16; o + 4 <= size; o += 4) brands.push(ascii(bytes, o, 4));
  return brands;
}

/** The accepted image format these bytes are, or undefined. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return 'gif';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  // classic TIFF (42) and BigTIFF (43), either byte order
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  const brands = ftypBrands(bytes);
  if (brands.includes('avif') || brands.includes('avis')) return 'avif';
  return undefined;
}

/** Magic numbers of formats that are refused, to name them in the error. */
const REFUSED_MAGIC: readonly [string, readonly number[], number?][] = [
  ['PDF', [0x25, 0x50, 0x44, 0x46]],
  ['PostScript', [0x25, 0x21]],
  ['gzip (e.g. SVGZ)', [0x1f, 0x8b]],
  ['ZIP archive', [0x50, 0x4b, 0x03, 0x04]],
  ['7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['RAR archive', [0x52, 0x61, 0x72, 0x21]],
  ['xz archive', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2 archive', [0x42, 0x5a, 0x68]],
  ['zstd archive', [0x28, 0xb5, 0x2f, 0xfd]],
  ['tar archive', [0x75, 0x73, 0x74, 0x61, 0x72], 257],
  ['BMP', [0x42, 0x4d]],
  ['ICO', [0x00, 0x00, 0x01, 0x00]],
  ['PSD', [0x38, 0x42, 0x50, 0x53]],
  ['JPEG XL', [0xff, 0x0a]],
  ['JPEG XL', [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]],
  ['JPEG 2000', [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]],
  ['JPEG 2000', [0xff, 0x4f, 0xff, 0x51]],
  ['OpenEXR', [0x76, 0x2f, 0x31, 0x01]],
  ['Radiance HDR', [0x23, 0x3f, 0x52, 0x41, 0x44, 0x49, 0x41, 0x4e, 0x43, 0x45]],
  ['FITS', [0x53, 0x49, 0x4d, 0x50, 0x4c, 0x45, 0x20, 0x20, 0x3d]],
  ['VIPS', [0x08, 0xf2, 0xa6, 0xb6]],
  ['VIPS', [0xb6, 0xa6, 0xf2, 0x08]],
  ['Matroska/WebM video', [0x1a, 0x45, 0xdf, 0xa3]],
  ['Ogg', [0x4f, 0x67, 0x67, 0x53]],
  ['ELF executable', [0x7f, 0x45, 0x4c, 0x46]],
];

/** Printable text (ASCII/UTF-8 with tabs and newlines) in the first KiB. */
function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  return true;
}

/** A name for bytes that are not an accepted image: "SVG", "PDF", "text", "HEIC", or their first bytes. */
export function describeFormat(bytes: Uint8Array): string {
  const accepted = sniffImageFormat(bytes);
  if (accepted) return ACCEPTED_IMAGE_FORMATS[accepted];
  for (const [name, magic, at] of REFUSED_MAGIC) if (startsWith(bytes, magic, at)) return name;
  const brands = ftypBrands(bytes);
  if (brands.some((b) => ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(b)))
    return 'HEIC (HEVC-coded HEIF)';
  if (brands.length) return `ISO media (${brands[0].trim()}, e.g. MP4/MOV video)`;
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF') return `RIFF ${ascii(bytes, 8, 4).trim()}`;
  if (bytes.length >= 3 && /^P[1-7]\s$/.test(ascii(bytes, 0, 3))) return 'Netpbm (PPM/PGM/PBM)';
  let head = bytes.subarray(0, 1024);
  if (startsWith(head, [0xef, 0xbb, 0xbf])) head = head.subarray(3);
  if (looksLikeText(head)) {
    const text = ascii(head, 0, head.length).toLowerCase();
    if (text.includes('<svg')) return 'SVG';
    if (/^\s*<(!doctype html|html)/.test(text)) return 'HTML';
    if (/^\s*<\?xml/.test(text)) return 'XML';
    return 'text';
  }
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `unknown (starts with ${hex || 'nothing'})`;
}

/**
 * Scans (SOS segments) of a JPEG's first image, counted by walking its segments and skipping
 * entropy-coded data; stops counting once past `stopAfter`. Linear in the bytes.
 */
export function countJpegScans(bytes: Uint8Array, stopAfter = Number.POSITIVE_INFINITY): number {
  let scans = 0;
  let i = 2;
  while (i + 1 < bytes.length && scans <= stopAfter) {
    if (bytes[i] !== 0xff) {
      // garbage between segments: find the next marker
      const next = bytes.indexOf(0xff, i);
      if (next < 0) break;
      i = next;
      continue;
    }
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) break; // EOI: later images (thumbnails, gain maps) are not decoded
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (i + 3 >= bytes.length) break;
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    i += 2 + length;
    if (marker !== 0xda) continue;
    scans++;
    // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart marker
    for (;;) {
      const ff = bytes.indexOf(0xff, i);
      if (ff < 0 || ff + 1 >= bytes.length) return scans;
      const m = bytes[ff + 1];
      if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
        i = ff + (m === 0xff ? 1 : 2);
        continue;
      }
      i = ff;
      break;
    }
  }
  return scans;
}

export interface ImageByteLimits {
  /** Encoded bytes (default: no check here; callers pass their byte limit). */
  maxBytes?: number;
  /** Progressive JPEG scans (default DEFAULT_MAX_JPEG_SCANS). */
  maxJpegScans?: number;
}

/**
 * Refuse bytes that are not an accepted image (E_DECODE "unsupported format X") or that are
 * over a limit checkable from the bytes alone (E_TOO_LARGE); returns the format. `source` names
 * the input in errors.
 */
export function checkImageBytes(bytes: Uint8Array, source: string, limits: ImageByteLimits = {}): ImageFormat {
  if (bytes.length === 0) throw new FerkitError('E_EMPTY', `${source}: empty input (0 bytes)`);
  if (limits.maxBytes !== undefined && bytes.length > limits.maxBytes)
    throw new FerkitError('E_TOO_LARGE', `${source}: ${bytes.length} bytes is over the limit of ${limits.maxBytes}`);
  const format = sniffImageFormat(bytes);
  if (!format)
    throw new FerkitError(
      'E_DECODE',
      `${source}: unsupported format ${describeFormat(bytes)} (accepted: ${Object.values(ACCEPTED_IMAGE_FORMATS).join(', ')})`,
    );
  if (format === 'jpeg') {
    const maxScans = limits.maxJpegScans ?? DEFAULT_MAX_JPEG_SCANS;
    const scans = countJpegScans(bytes, maxScans);
    if (scans > maxScans)
      throw new FerkitError(
        'E_TOO_LARGE',
        `${source}: progressive JPEG with over ${maxScans} scans is over the limit (each scan re-walks the whole image)`,
      );
  }
  return format;
}
