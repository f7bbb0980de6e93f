import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FER2013_PIXELS,
  FER2013_RECORD_BYTES,
  loadFer2013,
  parseFer2013Bin,
  parseFer2013Split,
} from '../src/data/fer2013.js';
import { parseFer2013Csv } from '../src/data/fer2013-csv.js';
import { FerkitError } from '../src/errors.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferkit-data-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A recognisable 48×48 pattern per record: pixel j = (seed * 31 + j) % 256. */
function pixels(seed: number): Uint8Array {
  const p = new Uint8Array(FER2013_PIXELS);
  for (let j = 0; j < p.length; j++) p[j] = (seed * 31 + j) % 256;
  return p;
}

function binBytes(labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * FER2013_RECORD_BYTES);
  labels.forEach((l, i) => {
    out[i * FER2013_RECORD_BYTES] = l;
    out.set(pixels(i), i * FER2013_RECORD_BYTES + 1);
  });
  return out;
}

function csvRow(label: number | string, px: Uint8Array | string, usage: string): string {
  return `${label},${typeof px === 'string' ? px : Array.from(px).join(' ')},${usage}`;
}

/** Expect a FerkitError with this code whose message matches every pattern. */
async function expectError(p: Promise<unknown> | (() => unknown), code: string, ...patterns: (string | RegExp)[]) {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error, 'expected an error').toBeInstanceOf(FerkitError);
  const fe = error as FerkitError;
  expect(fe.code).toBe(code);
  for (const pat of patterns) {
    if (typeof pat === 'string') expect(fe.message).toContain(pat);
    else expect(fe.message).toMatch(pat);
  }
}

describe('.bin', () => {
  it('reads every record: label byte then 48×48 pixels', async () => {
    const file = join(dir, 'ok.bin');
    await writeFile(file, binBytes([3, 0, 6, 5]));
    const d = await loadFer2013(file);
    expect(Array.from(d.labels)).toEqual([3, 0, 6, 5]);
    expect(d.images).toHaveLength(4);
    expect(d.images[2]).toEqual(pixels(2));
    expect(d.images.every((im) => im.length === 48 * 48)).toBe(true);
    expect(d.source).toBe(file);
    const lim = await loadFer2013(file, { limit: 2 });
    expect(Array.from(lim.labels)).toEqual([3, 0]);
    expect(lim.images[1]).toEqual(pixels(1));
  });

  it('a split is ignored with a warning (one file is one split)', async () => {
    const file = join(dir, 'split.bin');
    await writeFile(file, binBytes([1]));
    const d = await loadFer2013(file, { split: 'PrivateTest' });
    expect(d.labels.length).toBe(1);
    expect(d.warnings.join()).toMatch(/one split/);
  });

  it('a size that is not a multiple of 2305 names the file and the size', async () => {
    const file = join(dir, 'short.bin');
    await writeFile(file, binBytes([1, 2]).subarray(0, 2 * FER2013_RECORD_BYTES - 7));
    await expectError(loadFer2013(file), 'E_DATA', file, `${2 * FER2013_RECORD_BYTES - 7} bytes`, '2305');
  });

  it('a label outside 0..6 names the record', async () => {
    const file = join(dir, 'badlabel.bin');
    await writeFile(file, binBytes([0, 1, 9]));
    await expectError(loadFer2013(file), 'E_DATA', file, 'record 2', 'label 9', '0..6');
    expect(() => parseFer2013Bin(binBytes([7]), 'mem.bin')).toThrow(/mem\.bin: record 0 .*label 7/);
  });

  it('an empty or missing file', async () => {
    const empty = join(dir, 'empty.bin');
    await writeFile(empty, new Uint8Array(0));
    await expectError(loadFer2013(empty), 'E_EMPTY', empty);
    const missing = join(dir, 'nope.bin');
    await expectError(loadFer2013(missing), 'E_NOT_FOUND', missing);
  });
});

describe('fer2013.csv', () => {
  const header = 'emotion,pixels,Usage';
  const rows = [
    csvRow(0, pixels(0), 'Training'),
    csvRow(3, pixels(1), 'PublicTest'),
    csvRow(6, pixels(2), 'PrivateTest'),
    csvRow(5, pixels(3), 'PublicTest'),
    csvRow(2, pixels(4), 'Training'),
  ];

  it('filters by Usage; PublicTest by default', async () => {
    const file = join(dir, 'ok.csv');
    await writeFile(file, [header, ...rows, ''].join('\n'));
    const pub = await loadFer2013(file);
    expect(Array.from(pub.labels)).toEqual([3, 5]);
    expect(pub.images[0]).toEqual(pixels(1));
    expect(pub.source).toContain('PublicTest');
    expect(Array.from((await loadFer2013(file, { split: 'Training' })).labels)).toEqual([0, 2]);
    expect(Array.from((await loadFer2013(file, { split: 'PrivateTest' })).labels)).toEqual([6]);
    expect(Array.from((await loadFer2013(file, { split: 'Training', limit: 1 })).labels)).toEqual([0]);
  });

  it('CRLF line ends, a BOM and quoted fields', async () => {
    const file = join(dir, 'crlf.csv');
    const quoted = `"4","${Array.from(pixels(9)).join(' ')}","PublicTest"`;
    await writeFile(file, `\uFEFF${header}\r\n${rows[1]}\r\n${quoted}\r\n`);
    const d = await loadFer2013(file);
    expect(Array.from(d.labels)).toEqual([3, 4]);
    expect(d.images[1]).toEqual(pixels(9));
  });

  it('rows of other splits are not checked (as the Python loader)', async () => {
    const file = join(dir, 'other-split-bad.csv');
    await writeFile(file, [header, csvRow(9, '1 2 3', 'Training'), rows[1]].join('\n'));
    expect(Array.from((await loadFer2013(file)).labels)).toEqual([3]);
  });

  it('no Usage column: every row, unless a split is asked for', async () => {
    const file = join(dir, 'nousage.csv');
    await writeFile(
      file,
      ['emotion,pixels', `1,${Array.from(pixels(0)).join(' ')}`, `2,${Array.from(pixels(1)).join(' ')}`].join('\n'),
    );
    const d = await loadFer2013(file);
    expect(Array.from(d.labels)).toEqual([1, 2]);
    expect(d.warnings.join()).toMatch(/no Usage column/);
    await expectError(loadFer2013(file, { split: 'Training' }), 'E_DATA', file, 'Usage');
  });

  const bad: [string, string, (string | RegExp)[]][] = [
    ['wrong number of pixels', csvRow(1, pixels(0).subarray(0, 2000), 'PublicTest'), ['2000 pixels', '2304']],
    [
      'a non-integer pixel',
      csvRow(
        1,
        `${Array.from(pixels(0).subarray(0, 10)).join(' ')} 12.5 ${Array.from(pixels(0).subarray(11)).join(' ')}`,
        'PublicTest',
      ),
      ['pixel 11', '"12.5"', 'integer'],
    ],
    [
      'a pixel over 255',
      csvRow(1, `300 ${Array.from(pixels(0).subarray(1)).join(' ')}`, 'PublicTest'),
      ['pixel 1', '300', '0..255'],
    ],
    ['a label outside 0..6', csvRow(7, pixels(0), 'PublicTest'), ['emotion 7', '0..6']],
    ['a negative label', csvRow(-1, pixels(0), 'PublicTest'), ['emotion -1', '0..6']],
    ['a non-integer label', csvRow('happy', pixels(0), 'PublicTest'), ['"happy"', 'not an integer']],
    ['a missing field', `1,PublicTest`, ['2 fields', 'expected 3']],
  ];
  for (const [what, line, patterns] of bad) {
    it(`${what}: names the file and line`, async () => {
      const file = join(dir, `bad-${what.replace(/\W+/g, '-')}.csv`);
      await writeFile(file, [header, rows[1], rows[3], line, rows[1]].join('\n'));
      await expectError(loadFer2013(file), 'E_DATA', file, 'line 4', ...patterns);
    });
  }

  it('a missing header, no rows for the split, an empty or missing file', async () => {
    const noHeader = join(dir, 'noheader.csv');
    await writeFile(noHeader, rows.join('\n'));
    await expectError(loadFer2013(noHeader), 'E_DATA', noHeader, 'line 1', 'header');
    const noRows = join(dir, 'norows.csv');
    await writeFile(noRows, [header, rows[0]].join('\n'));
    await expectError(loadFer2013(noRows), 'E_DATA', noRows, 'no rows', 'PublicTest');
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, '');
    await expectError(loadFer2013(empty), 'E_EMPTY', empty);
    await expectError(loadFer2013(join(dir, 'missing.csv')), 'E_NOT_FOUND', 'missing.csv');
  });

  it('parses text in memory with the same rules', () => {
    const d = parseFer2013Csv([header, ...rows].join('\n'), 'mem.csv', { split: 'Training' });
    expect(Array.from(d.labels)).toEqual([0, 2]);
    expect(() => parseFer2013Csv([header, csvRow(8, pixels(0), 'PublicTest')].join('\n'), 'mem.csv')).toThrow(
      /mem\.csv: line 2: emotion 8/,
    );
  });
});

describe('image folders', () => {
  async function png(file: string, px: Uint8Array, width = 48, height = 48) {
    await writeFile(
      file,
      await sharp(Buffer.from(px), { raw: { width, height, channels: 1 } })
        .png()
        .toBuffer(),
    );
  }

  it('reads <root>/<class>/*.png with the release aliases, in label order', async () => {
    const root = join(dir, 'flat');
    for (const [cls, seed] of [
      ['happiness', 1],
      ['angry', 2],
      ['Surprised', 3],
    ] as const) {
      await mkdir(join(root, cls), { recursive: true });
      await png(join(root, cls, `a${seed}.png`), pixels(seed));
    }
    await writeFile(join(root, 'happiness', 'notes.txt'), 'not an image');
    await writeFile(join(root, 'README.md'), 'files at the root are ignored');
    const d = await loadFer2013(root);
    // sorted folders: Surprised, angry, happiness
    expect(Array.from(d.labels)).toEqual([5, 0, 3]);
    expect(d.images[2]).toEqual(pixels(1));
    expect(d.warnings.join()).toMatch(/skipped 1 file/);
  });

  it('colour images become grey with the Pillow luma (what the Python loader sees)', async () => {
    const root = join(dir, 'colour');
    await mkdir(join(root, 'sad'), { recursive: true });
    const rgb = new Uint8Array(48 * 48 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7) % 256;
    await writeFile(
      join(root, 'sad', 'c.png'),
      await sharp(Buffer.from(rgb), { raw: { width: 48, height: 48, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const d = await loadFer2013(root);
    const j = 100;
    const [r, g, b] = [rgb[3 * j], rgb[3 * j + 1], rgb[3 * j + 2]];
    expect(d.images[0][j]).toBe((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
    expect(d.labels[0]).toBe(4);
  });

  it('train/ and test/ subfolders are picked by split (test by default)', async () => {
    const root = join(dir, 'split');
    await mkdir(join(root, 'train', 'fear'), { recursive: true });
    await mkdir(join(root, 'test', 'disgust'), { recursive: true });
    await mkdir(join(root, 'test', 'neutral'), { recursive: true });
    await png(join(root, 'train', 'fear', 'x.png'), pixels(1));
    await png(join(root, 'test', 'disgust', 'y.png'), pixels(2));
    await png(join(root, 'test', 'neutral', 'z.jpg'), pixels(3));
    const test = await loadFer2013(root);
    expect(Array.from(test.labels)).toEqual([1, 6]);
    expect(test.source).toContain('test');
    const train = await loadFer2013(root, { split: 'Training' });
    expect(Array.from(train.labels)).toEqual([2]);
    expect(train.images[0]).toEqual(pixels(1));
  });

  it('limit keeps evenly spaced files, so every class keeps its share', async () => {
    const root = join(dir, 'many');
    for (const cls of ['angry', 'happy']) {
      await mkdir(join(root, cls), { recursive: true });
      for (let i = 0; i < 4; i++) await png(join(root, cls, `${i}.png`), pixels(i));
    }
    const d = await loadFer2013(root, { limit: 4 });
    expect(Array.from(d.labels)).toEqual([0, 0, 3, 3]);
  });

  it('an unknown class folder names the folder', async () => {
    const root = join(dir, 'unknown');
    await mkdir(join(root, 'contempt'), { recursive: true });
    await png(join(root, 'contempt', 'a.png'), pixels(0));
    await expectError(loadFer2013(root), 'E_DATA', join(root, 'contempt'), 'unknown class folder', '"contempt"');
  });

  it('a wrong image size names the file; resize: true scales it with a warning', async () => {
    const root = join(dir, 'size');
    await mkdir(join(root, 'happy'), { recursive: true });
    const file = join(root, 'happy', 'big.png');
    await png(file, new Uint8Array(64 * 60).fill(128), 64, 60);
    await expectError(loadFer2013(root), 'E_DATA', file, '64x60', '48x48');
    const d = await loadFer2013(root, { resize: true });
    expect(d.images[0].length).toBe(48 * 48);
    expect(d.images[0][500]).toBe(128);
    expect(d.warnings.join()).toMatch(/resized 1 image/);
  });

  it('an undecodable image names the file', async () => {
    const root = join(dir, 'corrupt');
    await mkdir(join(root, 'sad'), { recursive: true });
    const file = join(root, 'sad', 'broken.png');
    await writeFile(file, 'this is not a png');
    await expectError(loadFer2013(root), 'E_DATA', file, 'cannot decode');
  });

  it('an empty folder and an unknown file type', async () => {
    const root = join(dir, 'nothing');
    await mkdir(root, { recursive: true });
    await expectError(loadFer2013(root), 'E_DATA', root, 'no class folders');
    const other = join(dir, 'data.npz');
    await writeFile(other, 'x');
    await expectError(loadFer2013(other), 'E_DATA', other, 'unknown data format');
  });
});

describe('splits', () => {
  it('parses canonical names and the aliases', () => {
    expect(parseFer2013Split('PublicTest')).toBe('PublicTest');
    expect(parseFer2013Split('train')).toBe('Training');
    expect(parseFer2013Split('privatetest')).toBe('PrivateTest');
    expect(parseFer2013Split('test')).toBe('PublicTest');
    expect(parseFer2013Split('validation2')).toBeUndefined();
  });
});

// The real FER2013 data, when this checkout has it beside it (never copied into the repo).
const dataRoot = resolve(process.env.FERKIT_DATA ?? fileURLToPath(new URL('../../shared/data', import.meta.url)));
const publicTest = join(dataRoot, 'fer2013', 'publictest.bin');

describe.skipIf(!existsSync(publicTest))('real FER2013 PublicTest (.bin)', () => {
  it('loads every record with labels 0..6', async () => {
    const d = await loadFer2013(publicTest);
    expect(d.labels.length).toBe(statSync(publicTest).size / FER2013_RECORD_BYTES);
    expect(d.labels.length).toBe(3589);
    const counts = new Array(7).fill(0);
    for (const l of d.labels) counts[l]++;
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(d.images.every((im) => im.length === FER2013_PIXELS)).toBe(true);
  });
});
