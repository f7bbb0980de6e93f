/**
 * Bad input never crashes a batch: each case gets a FerkitError with a code and the file's name,
 * and the odd-but-valid formats (CMYK, 16-bit, grey+alpha, EXIF-rotated) decode correctly.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPhotoPaths } from '../src/bench/photos.js';
import { FerkitError } from '../src/errors.js';
import { type Analyzer, createAnalyzer } from '../src/node/analyzer.js';
import { decodeImage } from '../src/node/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'ferkit-bad-'));
const photo = demoPhotoPaths()[0];
const f = (name: string) => join(dir, name);

/** A PNG whose header claims width×height but holds one row of data: enough to be refused from its header. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  // one scanline's worth of compressed zeros: a decoder would fail long before the end, but the header is valid
  const idat = deflateSync(Buffer.alloc(width * 3 + 1));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function expectError(p: Promise<unknown>, code: string, name: string) {
  const e = await p.then(
    () => null,
    (err) => err,
  );
  expect(e).toBeInstanceOf(FerkitError);
  expect((e as FerkitError).code).toBe(code);
  expect((e as FerkitError).message).toContain(name);
}

let analyzer: Analyzer;
beforeAll(async () => {
  const jpeg = readFileSync(photo);
  writeFileSync(f('truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  writeFileSync(f('text.jpg'), 'this is not an image\n');
  writeFileSync(f('empty.jpg'), '');
  writeFileSync(f('huge.png'), pngHeaderOnly(8000, 6000));
  await sharp(photo).resize(640).toColourspace('cmyk').jpeg().toFile(f('cmyk.jpg'));
  await sharp(photo).resize(640).toColourspace('rgb16').png().toFile(f('sixteen.png'));
  await sharp(photo).resize(640).ensureAlpha(0.5).toColourspace('b-w').png().toFile(f('gray-alpha.png'));
  // pixels stored rotated 90° counter-clockwise, with EXIF orientation 6 saying "rotate 90° clockwise to view"
  await sharp(photo).resize(640).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toFile(f('exif-rotated.jpg'));
  await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 140, b: 200 } } })
    .jpeg()
    .toFile(f('no-face.jpg'));
  analyzer = await createAnalyzer();
});
afterAll(() => analyzer?.dispose());

describe('bad input gets a clear, typed error naming the file', () => {
  it('truncated JPEG → E_DECODE', () => expectError(analyzer.analyze(f('truncated.jpg')), 'E_DECODE', 'truncated.jpg'));
  it('a text file named .jpg → E_DECODE', () => expectError(analyzer.analyze(f('text.jpg')), 'E_DECODE', 'text.jpg'));
  it('a 0-byte file → E_EMPTY', () => expectError(analyzer.analyze(f('empty.jpg')), 'E_EMPTY', 'empty.jpg'));
  it('a PNG over the 40 MP limit is refused from its header, before decoding → E_TOO_LARGE', async () => {
    await expectError(analyzer.analyze(f('huge.png')), 'E_TOO_LARGE', 'huge.png');
    await expectError(decodeImage(f('huge.png'), { maxPixels: 1000 }), 'E_TOO_LARGE', '48.0 MP');
  });
  it('a missing path → E_NOT_FOUND', () =>
    expectError(analyzer.analyze(f('missing.jpg')), 'E_NOT_FOUND', 'missing.jpg'));
  it('malformed raw pixels → E_INPUT', () =>
    expectError(
      analyzer.analyze({ width: 10, height: 10, channels: 3, data: new Uint8Array(5) }),
      'E_INPUT',
      'raw pixels',
    ));
});

describe('odd but valid images decode and analyse like the original', () => {
  let reference: Awaited<ReturnType<Analyzer['analyze']>>;
  beforeAll(async () => {
    reference = await analyzer.analyze(await sharp(photo).resize(640).png().toBuffer());
  });
  it('reference photo has faces', () => expect(reference.faces.length).toBeGreaterThanOrEqual(3));
  for (const name of ['cmyk.jpg', 'sixteen.png', 'gray-alpha.png']) {
    it(`${name} → 8-bit RGB with the same faces`, async () => {
      const r = await analyzer.analyze(f(name));
      expect([r.width, r.height]).toEqual([reference.width, reference.height]);
      expect(Math.abs(r.faces.length - reference.faces.length)).toBeLessThanOrEqual(1);
    });
  }
  it('EXIF orientation is respected (upright size, faces found)', async () => {
    const img = await decodeImage(f('exif-rotated.jpg'));
    expect([img.width, img.height]).toEqual([reference.width, reference.height]);
    const r = await analyzer.analyzeImage(img);
    expect(r.faces.length).toBe(reference.faces.length);
  });
  it('a photo with no face → empty list, not an error', async () => {
    const r = await analyzer.analyze(f('no-face.jpg'));
    expect(r.faces).toEqual([]);
  });
});

describe('ferkit analyze CLI on a mixed batch', () => {
  it('a reader that closes the pipe early (| head) ends the run quietly with 0, no EPIPE trace', async () => {
    const { spawn } = await import('node:child_process');
    const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
    const child = spawn(process.execPath, [cli, 'analyze', ...demoPhotoPaths(), '--threads', '1']);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Read the first chunk, then close our end, as `head -c 100` does.
    await new Promise<void>((done) => child.stdout.once('data', () => done()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 120_000);

  it('reports per-file errors in place, keeps going, exits 1', async () => {
    const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
    const files = [photo, f('truncated.jpg'), f('empty.jpg'), f('no-face.jpg'), f('missing.jpg')];
    const r = await promisify(execFile)(process.execPath, [cli, 'analyze', ...files, '--format', 'json']).catch(
      (e) => e,
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toHaveLength(5);
    expect(out[0].faces.length).toBeGreaterThanOrEqual(3);
    expect(out[0].faces[0].landmarks).toHaveLength(68);
    const sum = Object.values(out[0].faces[0].expression.probabilities as Record<string, number>).reduce(
      (s, v) => s + v,
      0,
    );
    expect(sum).toBeCloseTo(1, 2);
    expect(out[1]).toMatchObject({ file: files[1], code: 'E_DECODE' });
    expect(out[2]).toMatchObject({ file: files[2], code: 'E_EMPTY' });
    expect(out[3]).toMatchObject({ file: files[3], faces: [] });
    expect(out[4]).toMatchObject({ file: files[4], code: 'E_NOT_FOUND' });
    expect(r.stderr).toContain('3 of 5 files failed');
  });
});
