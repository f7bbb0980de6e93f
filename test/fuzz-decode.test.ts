/**
 * Fuzzing the library's decoder and the CLI (issue 19): every accepted format decodes, everything
 * else is refused from its bytes, and seeded mutations, truncations, random bytes and lying
 * headers end in a decoded image within the limits or a FerkitError — never another exception, a
 * crash or unbounded work. The corpus in test/fuzz-corpus/ is replayed. FERKIT_FUZZ_N=10000 for
 * the long mode.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeImageBlob } from '../src/browser/decode.js';
import { FerkitError } from '../src/errors.js';
import { describeFormat, sniffImageFormat } from '../src/image/format.js';
import { decodeImage } from '../src/node/decode.js';
import {
  FUZZ_SEED,
  type FuzzCase,
  fuzzCases,
  fuzzCount,
  lyingHeaders,
  PHOTO,
  refusedInputs,
  seedImages,
} from './helpers/fuzz-inputs.js';
import { progressiveScanBomb } from './helpers/jpeg-scan-bomb.js';

const MAX_PIXELS = 40_000_000;
const BAD_CODES = ['E_DECODE', 'E_TOO_LARGE', 'E_EMPTY'];
const FAILURES = join(tmpdir(), 'ferkit-fuzz-failures');

let seeds: Record<string, Buffer>;
beforeAll(async () => {
  seeds = await seedImages();
});

/** Decode one case; a wrong outcome keeps the input for the corpus and says where it is. */
async function decodeOutcome(c: FuzzCase): Promise<{ code: string; message: string; ms: number }> {
  const t = performance.now();
  try {
    const img = await decodeImage(c.bytes, {}, c.name);
    const ok = img.width * img.height <= MAX_PIXELS && img.data.length === img.width * img.height * 3;
    return { code: ok ? 'ok' : 'BAD_IMAGE', message: `${img.width}x${img.height}`, ms: performance.now() - t };
  } catch (e) {
    const code = e instanceof FerkitError ? e.code : `THROWN ${(e as Error)?.name}`;
    return { code, message: (e as Error).message, ms: performance.now() - t };
  }
}

function keep(c: FuzzCase): string {
  mkdirSync(FAILURES, { recursive: true });
  const path = join(FAILURES, c.name.replace(/[^\w.-]/g, '_'));
  writeFileSync(path, c.bytes);
  return path;
}

describe('the allowlist, decided from the bytes', () => {
  it('every accepted format decodes (GIF: the first frame of three)', async () => {
    for (const [name, bytes] of Object.entries(seeds)) {
      const img = await decodeImage(bytes, {}, name);
      expect([name, img.width, img.height]).toEqual([name, 160, 107]);
      expect(sniffImageFormat(bytes)).toBeDefined();
    }
  });

  it('SVG, PDF, text, HTML, archives, BMP, HEIC, PPM, polyglots → E_DECODE naming the format; empty → E_EMPTY', async () => {
    for (const c of refusedInputs()) {
      const r = await decodeOutcome(c);
      expect([c.name, r.code]).toEqual([c.name, c.expectCode]);
      expect(r.message).toContain(c.name);
      expect(r.message).toContain(c.expectText);
    }
    expect(describeFormat(Buffer.from('<svg/>'))).toBe('SVG');
  });

  it('headers that claim 60000×60000 (JPEG, PNG, GIF, WebP, TIFF, AVIF) are refused before decoding, fast', async () => {
    for (const c of lyingHeaders(seeds)) {
      const r = await decodeOutcome(c);
      // a GIF's logical screen is not what libvips decodes: that one may decode at its frame's real size
      expect([c.name, r.code === 'E_TOO_LARGE' || (c.name.endsWith('.gif') && r.code === 'ok')]).toEqual([
        c.name,
        true,
      ]);
      expect(r.ms).toBeLessThan(2000);
    }
  });

  it('progressive JPEG: 100 scans decode, 101 and the 2647-scan bomb are refused from the bytes in milliseconds', async () => {
    const at = (scans: number) => progressiveScanBomb({ width: 64, height: 64, scans });
    expect((await decodeImage(at(100))).width).toBe(64);
    await expect(decodeImage(at(101))).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    const bomb = {
      name: 'bomb.jpg',
      bytes: progressiveScanBomb({ width: 6000, height: 6000 }),
      kind: 'refused' as const,
    };
    const r = await decodeOutcome(bomb);
    expect(r.code).toBe('E_TOO_LARGE');
    expect(r.ms).toBeLessThan(500);
    // a caller may raise the limit (and pay for it)
    expect((await decodeImage(at(2647), { maxJpegScans: 3000 })).width).toBe(64);
  });
});

describe('the browser decoder applies the same checks before createImageBitmap', () => {
  it('refused and over-limit bytes never reach the browser decoder; accepted ones do', async () => {
    const decoded: Blob[] = [];
    vi.stubGlobal('createImageBitmap', async (blob: Blob) => {
      decoded.push(blob);
      return { width: 160, height: 107, close() {} };
    });
    try {
      // (the polyglot with a JPEG signature is left to the browser's JPEG decoder to fail)
      for (const c of refusedInputs().filter((c) => c.name !== 'jpeg-magic-svg.jpg')) {
        await expect(decodeImageBlob(new Blob([c.bytes]), c.name)).rejects.toMatchObject({ code: c.expectCode });
      }
      expect(decoded).toHaveLength(0);
      const bitmap = await decodeImageBlob(new Blob([seeds.jpeg]), 'photo.jpg');
      expect([bitmap.width, decoded.length, decoded[0].type]).toEqual([160, 1, 'image/jpeg']);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe(`seeded fuzzing of decodeImage (seed ${FUZZ_SEED})`, () => {
  it(`${fuzzCount(600)} mutated, truncated and random inputs: an image within limits or a FerkitError`, async () => {
    const counts: Record<string, number> = {};
    let maxMs = 0;
    for (const c of fuzzCases(seeds, fuzzCount(600))) {
      const r = await decodeOutcome(c);
      counts[r.code] = (counts[r.code] ?? 0) + 1;
      maxMs = Math.max(maxMs, r.ms);
      if (!(r.code === 'ok' || BAD_CODES.includes(r.code)) || r.ms > 5000)
        expect.fail(`${c.name}: ${r.code} in ${r.ms.toFixed(0)} ms (${r.message}); input kept at ${keep(c)}`);
    }
    console.log(`decodeImage fuzz: ${JSON.stringify(counts)}, slowest ${maxMs.toFixed(0)} ms`);
    expect(counts.E_DECODE).toBeGreaterThan(0);
  });

  it('replays the corpus of inputs that once failed', async () => {
    const dir = resolve('test/fuzz-corpus');
    const files = readdirSync(dir).filter((f) => f.includes('--'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) {
      const r = await decodeOutcome({ name: f, bytes: readFileSync(join(dir, f)), kind: 'mutation' });
      expect([f, r.code]).toEqual([f, f.split('--')[0]]);
    }
  });
});

const CLI = resolve('dist/cli/main.js');

describe.skipIf(!existsSync(CLI))('ferkit analyze on one batch of many bad files and one good one', () => {
  it('analyses the good photo, reports each bad file with its code, exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-fuzz-cli-'));
    const bad = [...refusedInputs(), ...lyingHeaders(seeds), ...fuzzCases(seeds, 20, FUZZ_SEED + 1)];
    const files = bad.map((c, i) => {
      const path = join(dir, `${String(i).padStart(2, '0')}-${c.name.replace(/[^\w.-]/g, '_')}`);
      writeFileSync(path, c.bytes);
      return path;
    });
    const good = resolve(PHOTO);
    const r = await promisify(execFile)(process.execPath, [CLI, 'analyze', ...files, good, '--format', 'json'], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    }).catch((e) => e);
    expect(r.signal ?? null).toBeNull();
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { file: string; code?: string; faces?: unknown[] }[];
    expect(out).toHaveLength(files.length + 1);
    expect(out.at(-1)?.faces?.length).toBeGreaterThanOrEqual(3);
    for (const [i, c] of bad.entries()) {
      const o = out[i];
      expect(o.file).toBe(files[i]);
      if (c.expectCode) expect([c.name, o.code]).toEqual([c.name, c.expectCode]);
      else if (!o.faces) expect([c.name, BAD_CODES.includes(o.code ?? '')]).toEqual([c.name, true]);
    }
    const failed = out.filter((o) => o.code).length;
    expect(failed).toBeGreaterThanOrEqual(refusedInputs().length);
    expect(r.stderr).toContain(`${failed} of ${files.length + 1} files failed`);
  }, 150_000);
});
