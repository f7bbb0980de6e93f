/**
 * Seeded hostile inputs for the fuzz suite: real images of every accepted format (made from a
 * demo photo with sharp), their byte mutations and truncations, random bytes, headers that lie
 * about the size, and files that are not raster images (SVG, PDF, text, archives…).
 * FERKIT_FUZZ_N scales the case counts (the long mode); FERKIT_FUZZ_SEED changes the seed.
 */
import { crc32, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { mulberry32 } from '../../src/bench/corruption-pixels.js';
import { progressiveScanBomb } from './jpeg-scan-bomb.js';

export const FUZZ_SEED = Number(process.env.FERKIT_FUZZ_SEED ?? 19);
/** Cases per fuzzed surface in the long mode (unset: the CI counts each test picks). */
export const FUZZ_LONG_N = process.env.FERKIT_FUZZ_N ? Number(process.env.FERKIT_FUZZ_N) : undefined;
export const fuzzCount = (ciDefault: number): number => FUZZ_LONG_N ?? ciDefault;

/** The seedable PRNG of the corruption benchmark (mulberry32): the same cases on every machine. */
export const rng = mulberry32;

export interface FuzzCase {
  name: string;
  bytes: Buffer;
  /** mutation: anything may happen but a crash; refused: must be refused with this code and text. */
  kind: 'mutation' | 'random' | 'lying-header' | 'refused';
  expectCode?: string;
  expectText?: string;
}

export const PHOTO = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';

/** One small real image per accepted format (plus variants: progressive JPEG, lossless WebP, animated GIF). */
export async function seedImages(width = 160): Promise<Record<string, Buffer>> {
  const base = sharp(PHOTO).resize(width);
  const frame = await base.clone().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = frame.info;
  // three frames stacked vertically → a 3-page animated GIF
  const stacked = Buffer.concat([frame.data, Buffer.from(frame.data).reverse(), frame.data]);
  return {
    jpeg: await base.clone().jpeg({ quality: 85 }).toBuffer(),
    'progressive.jpeg': await base.clone().jpeg({ progressive: true }).toBuffer(),
    png: await base.clone().png().toBuffer(),
    webp: await base.clone().webp().toBuffer(),
    'lossless.webp': await base.clone().webp({ lossless: true }).toBuffer(),
    gif: await sharp(stacked, { raw: { width: w, height: h * 3, channels: 3, pageHeight: h } } as sharp.SharpOptions)
      .gif({ delay: [100, 100, 100] })
      .toBuffer(),
    tiff: await base.clone().tiff().toBuffer(),
    avif: await base.clone().avif({ effort: 0 }).toBuffer(),
  };
}

const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><circle r="2000"/></svg>';

/** Inputs that are not accepted raster images: refused as E_DECODE naming what they are. */
export function refusedInputs(): FuzzCase[] {
  const refused = (name: string, bytes: Buffer | string, expectText: string, expectCode = 'E_DECODE'): FuzzCase => ({
    name,
    bytes: Buffer.from(bytes),
    kind: 'refused',
    expectCode,
    expectText,
  });
  const tar = Buffer.alloc(1024);
  tar.write('notes.txt', 0);
  tar.write('ustar', 257);
  const bmp = Buffer.alloc(70);
  bmp.write('BM', 0);
  bmp.writeUInt32LE(70, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(4, 18);
  bmp.writeInt32LE(1, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  const heic = Buffer.from('000000186674797068656963000000006d69663168656963', 'hex');
  return [
    refused('image.svg', svg, 'SVG'),
    refused('prolog.svg', `<?xml version="1.0" encoding="UTF-8"?>\n${svg}`, 'SVG'),
    refused('svg-named.jpg', `\ufeff  ${svg}`, 'SVG'),
    refused('image.svgz', gzipSync(svg), 'gzip'),
    refused('doc.pdf', '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'PDF'),
    refused('notes.txt', 'this is not an image\n', 'text'),
    refused('page.html', '<!DOCTYPE html><html><body><img src=x></body></html>', 'HTML'),
    refused('archive.zip', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(60)]), 'ZIP'),
    refused('archive.tar', tar, 'tar'),
    refused('image.bmp', bmp, 'BMP'),
    refused('photo.heic', Buffer.concat([heic, Buffer.alloc(64)]), 'HEIC'),
    refused('image.ppm', Buffer.concat([Buffer.from('P6\n2 2\n255\n'), Buffer.alloc(12, 200)]), 'Netpbm'),
    refused('random-prefix.png', Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]), 'unknown'),
    // an SVG behind a JPEG signature: libvips must not be allowed to pick another loader
    refused('jpeg-magic-svg.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from(svg)]), 'JPEG'),
    refused('empty.png', Buffer.alloc(0), 'empty', 'E_EMPTY'),
    refused('scan-bomb.jpg', progressiveScanBomb({ width: 1024, height: 1024 }), 'scans', 'E_TOO_LARGE'),
  ];
}

/** The real images with width and height fields patched to `size` (60000 unless a format caps lower). */
export function lyingHeaders(seeds: Record<string, Buffer>, size = 60000): FuzzCase[] {
  const out: FuzzCase[] = [];
  const add = (name: string, bytes: Buffer) => out.push({ name, bytes, kind: 'lying-header' });
  for (const key of ['jpeg', 'progressive.jpeg']) {
    const b = Buffer.from(seeds[key]);
    for (let i = 2; i + 9 < b.length; i++) {
      if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
        b.writeUInt16BE(size, i + 5);
        b.writeUInt16BE(size, i + 7);
        break;
      }
    }
    add(`lying-${key}`, b);
  }
  const png = Buffer.from(seeds.png);
  png.writeUInt32BE(size, 16);
  png.writeUInt32BE(size, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  add('lying.png', png);
  const gif = Buffer.from(seeds.gif);
  gif.writeUInt16LE(size, 6);
  gif.writeUInt16LE(size, 8);
  add('lying.gif', gif);
  const webp = Buffer.from(seeds.webp);
  const start = webp.indexOf(Buffer.from([0x9d, 0x01, 0x2a]));
  webp.writeUInt16LE(16383, start + 3);
  webp.writeUInt16LE(16383, start + 5);
  add('lying.webp', webp);
  const tiff = Buffer.from(seeds.tiff);
  const ifd = tiff.readUInt32LE(4);
  for (let e = 0, n = tiff.readUInt16LE(ifd); e < n; e++) {
    const at = ifd + 2 + e * 12;
    const tag = tiff.readUInt16LE(at);
    if (tag === 256 || tag === 257) {
      if (tiff.readUInt16LE(at + 2) === 3) tiff.writeUInt16LE(size, at + 8);
      else tiff.writeUInt32LE(size, at + 8);
    }
  }
  add('lying.tiff', tiff);
  const avif = Buffer.from(seeds.avif);
  const ispe = avif.indexOf('ispe');
  avif.writeUInt32BE(size, ispe + 8);
  avif.writeUInt32BE(size, ispe + 12);
  add('lying.avif', avif);
  return out;
}

/** One byte-level mutation of `seed`, chosen and placed by `rand`. */
export function mutate(seed: Buffer, rand: () => number): { how: string; bytes: Buffer } {
  const at = (n: number) => Math.floor(rand() * n);
  const b = Buffer.from(seed);
  switch (at(6)) {
    case 0: {
      const k = 1 + at(32);
      for (let i = 0; i < k; i++) b[at(b.length)] = at(256);
      return { how: `flip${k}`, bytes: b };
    }
    case 1: {
      const n = 1 + at(b.length - 1);
      return { how: `truncate${n}`, bytes: b.subarray(0, n) };
    }
    case 2: {
      const s = at(b.length);
      b.fill(0, s, Math.min(b.length, s + 1 + at(512)));
      return { how: `zero@${s}`, bytes: b };
    }
    case 3: {
      const s = at(b.length);
      const junk = Buffer.from(Array.from({ length: 1 + at(256) }, () => at(256)));
      return { how: `insert@${s}`, bytes: Buffer.concat([b.subarray(0, s), junk, b.subarray(s)]) };
    }
    case 4: {
      const s = at(b.length);
      const e = Math.min(b.length, s + 1 + at(2048));
      return { how: `repeat${s}-${e}`, bytes: Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]) };
    }
    default: {
      const n = Math.min(b.length, 16 + at(512));
      return { how: `head${n}`, bytes: b.subarray(0, n) };
    }
  }
}

/**
 * `n` seeded cases: mostly mutations of the seed images (every format in turn), some random
 * bytes (a third of them behind an accepted format's signature so they reach the decoders).
 */
export function fuzzCases(seeds: Record<string, Buffer>, n: number, seed = FUZZ_SEED): FuzzCase[] {
  const rand = rng(seed);
  const names = Object.keys(seeds);
  const magics = Object.values(seeds).map((s) => s.subarray(0, 16));
  const cases: FuzzCase[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) {
      const len = 1 + Math.floor(rand() * 4096);
      let bytes = Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
      if (rand() < 0.33) bytes = Buffer.concat([magics[Math.floor(rand() * magics.length)], bytes]);
      cases.push({ name: `random-${i}`, bytes, kind: 'random' });
      continue;
    }
    const key = names[i % names.length];
    const { how, bytes } = mutate(seeds[key], rand);
    cases.push({ name: `${key}-${how}-${i}`, bytes, kind: 'mutation' });
  }
  return cases;
}
