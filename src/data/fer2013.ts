/**
 * FER2013 loaders for the three forms users bring, mirroring training/ferkit_train/data.py:
 *
 * - `.bin`: ferkit's compact form, 2305-byte records (byte 0 = label 0..6, then 48×48 grey pixels,
 *   row-major). One file is one split, so `split` is ignored.
 * - `.csv`: the original `fer2013.csv`, header `emotion,pixels,Usage` (Usage ∈ Training, PublicTest,
 *   PrivateTest). Rows are filtered by Usage; `split` defaults to PublicTest. A CSV without a Usage
 *   column (e.g. Kaggle's train.csv) is read whole unless a split is asked for explicitly.
 *   Rows of other splits are skipped unchecked, as in Python.
 * - a folder: `<root>/<class>/*.{png,jpg,...}`, or `<root>/train/<class>` and `<root>/test/<class>`
 *   (split Training → train/, PublicTest or PrivateTest → test/; default test/). Class folder names are
 *   the label names (angry, disgust, fear, happy, sad, surprise, neutral) or the aliases of the common
 *   release (anger, disgusted, fearful, happiness, sadness, surprised), case-insensitive. Images are
 *   decoded with sharp and turned grey with the same integer luma as Pillow's convert("L"), so the
 *   pixels equal what the Python loader sees. Images must be 48×48 (as in Python); with
 *   `resize: true` other sizes are scaled (centre-cropped to square, then resized) and one warning
 *   says how many were. Dot-files and files without an image extension are skipped (with a warning).
 *
 * Labels follow EXPRESSION_LABELS (the FER2013 order). `limit` keeps the first N records of a .bin or
 * .csv (those files are already shuffled); for a folder it keeps N files evenly spaced over the sorted
 * listing, so every class keeps its share. Errors are FerkitErrors naming the file and the
 * record/line: E_NOT_FOUND for a missing path, E_EMPTY for a 0-byte file, E_DATA for bad contents.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { FerkitError } from '../errors.js';
import { EXPRESSION_LABELS } from '../types.js';

export const FER2013_SIZE = 48;
export const FER2013_PIXELS = FER2013_SIZE * FER2013_SIZE;
/** Bytes per .bin record: one label byte and 48×48 pixels. */
export const FER2013_RECORD_BYTES = 1 + FER2013_PIXELS;

export const FER2013_SPLITS = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type Fer2013Split = (typeof FER2013_SPLITS)[number];

/** Class folder names (lower case) → label index: the label names plus the common release's aliases. */
export const FOLDER_CLASS_NAMES: Readonly<Record<string, number>> = Object.freeze({
  ...Object.fromEntries(EXPRESSION_LABELS.map((name, i) => [name, i])),
  anger: 0,
  disgusted: 1,
  fearful: 2,
  happiness: 3,
  sadness: 4,
  surprised: 5,
});

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff']);
const SPLIT_ALIASES: Record<string, Fer2013Split> = {
  training: 'Training',
  train: 'Training',
  publictest: 'PublicTest',
  public: 'PublicTest',
  test: 'PublicTest',
  val: 'PublicTest',
  privatetest: 'PrivateTest',
  private: 'PrivateTest',
};

export interface Fer2013Options {
  /** Which Usage rows of a CSV, or which train/ test/ subfolder; ignored for .bin. */
  split?: Fer2013Split;
  /** Keep at most this many records (see the module comment for which). */
  limit?: number;
  /** Folders only: resize images that are not 48×48 instead of failing. */
  resize?: boolean;
}

export interface Fer2013Data {
  /** 48×48 grey pixels per face, row-major. */
  images: Uint8Array[];
  /** FER2013 label per face (index into EXPRESSION_LABELS). */
  labels: Uint8Array;
  /** What was read: the file or folder, with the split when one was picked. */
  source: string;
  /** Things the caller may want to show (skipped files, resized images, ignored split). */
  warnings: string[];
}

/** 'Training', 'train', 'publictest', 'test', 'PrivateTest', … → the canonical split name, or undefined. */
export function parseFer2013Split(value: string): Fer2013Split | undefined {
  const exact = FER2013_SPLITS.find((s) => s === value);
  return exact ?? SPLIT_ALIASES[value.toLowerCase()];
}

function dataError(message: string): FerkitError {
  return new FerkitError('E_DATA', message);
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Infinity;
  if (!Number.isInteger(limit) || limit < 1)
    throw new FerkitError('E_INPUT', `limit must be a positive integer, got ${limit}`);
  return limit;
}

/** Load FER2013 from a .bin, a fer2013.csv or an image folder (see the module comment). */
export async function loadFer2013(path: string, options: Fer2013Options = {}): Promise<Fer2013Data> {
  checkLimit(options.limit);
  if (options.split !== undefined && !FER2013_SPLITS.includes(options.split)) {
    throw new FerkitError('E_INPUT', `split must be one of ${FER2013_SPLITS.join(', ')}, got "${options.split}"`);
  }
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new FerkitError('E_NOT_FOUND', `${path}: no such file or folder`, { cause: e });
  }
  if (isDir) return loadFer2013Folder(path, options);
  const ext = extname(path).toLowerCase();
  if (ext === '.bin') {
    const data = await loadFer2013Bin(path, options);
    if (options.split) data.warnings.push(`${path}: a .bin holds one split; split ${options.split} is ignored`);
    return data;
  }
  if (ext === '.csv') return loadFer2013Csv(path, options);
  throw new FerkitError('E_DATA', `${path}: unknown data format; expected a .bin, a fer2013.csv or an image folder`);
}

// ---------------------------------------------------------------------------------------------- .bin

/** Parse .bin bytes already in memory (`source` names them in errors). */
export function parseFer2013Bin(bytes: Uint8Array, source: string, limit?: number): Fer2013Data {
  const max = checkLimit(limit);
  if (bytes.length === 0) throw new FerkitError('E_EMPTY', `${source}: file is empty (0 bytes)`);
  if (bytes.length % FER2013_RECORD_BYTES !== 0) {
    throw dataError(
      `${source}: size ${bytes.length} bytes is not a whole number of ${FER2013_RECORD_BYTES}-byte records ` +
        `(${Math.floor(bytes.length / FER2013_RECORD_BYTES)} records and ${bytes.length % FER2013_RECORD_BYTES} bytes over); ` +
        `is it a FER2013 .bin?`,
    );
  }
  const n = Math.min(bytes.length / FER2013_RECORD_BYTES, max);
  return { ...binRecords(bytes, n, source, 0), source, warnings: [] };
}

function binRecords(bytes: Uint8Array, n: number, source: string, first: number) {
  const images: Uint8Array[] = new Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * FER2013_RECORD_BYTES;
    const label = bytes[o];
    if (label >= EXPRESSION_LABELS.length) {
      throw dataError(`${source}: record ${first + i} (byte offset ${o}) has label ${label}, expected 0..6`);
    }
    labels[i] = label;
    images[i] = bytes.subarray(o + 1, o + FER2013_RECORD_BYTES);
  }
  return { images, labels };
}

async function loadFer2013Bin(path: string, options: Fer2013Options): Promise<Fer2013Data> {
  const max = checkLimit(options.limit);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new FerkitError('E_NOT_FOUND', `${path}: no such file`, { cause: e });
  }
  try {
    const size = (await handle.stat()).size;
    if (size === 0) throw new FerkitError('E_EMPTY', `${path}: file is empty (0 bytes)`);
    if (size % FER2013_RECORD_BYTES !== 0) {
      throw dataError(
        `${path}: size ${size} bytes is not a whole number of ${FER2013_RECORD_BYTES}-byte records ` +
          `(${Math.floor(size / FER2013_RECORD_BYTES)} records and ${size % FER2013_RECORD_BYTES} bytes over); is it a FER2013 .bin?`,
      );
    }
    const n = Math.min(size / FER2013_RECORD_BYTES, max);
    const bytes = new Uint8Array(n * FER2013_RECORD_BYTES);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await handle.read(bytes, got, bytes.length - got, got);
      if (bytesRead === 0) throw dataError(`${path}: file shrank while reading (${got} of ${bytes.length} bytes)`);
      got += bytesRead;
    }
    return { ...binRecords(bytes, n, path, 0), source: path, warnings: [] };
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------- .csv

/** Split one CSV line into fields; handles "quoted" fields (with "" escapes), not newlines inside quotes. */
function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

/** Parse "r g b ..." into `out`; returns null when fine, else what is wrong. */
function parsePixels(text: string, out: Uint8Array): string | null {
  let count = 0;
  let value = -1;
  let tokenStart = 0;
  const end = text.length;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 32;
    if (c >= 48 && c <= 57) {
      if (value < 0) {
        value = 0;
        tokenStart = i;
      }
      value = value * 10 + (c - 48);
    } else if (c === 32 || c === 9) {
      if (value >= 0) {
        if (value > 255) return `pixel ${count + 1} is ${text.slice(tokenStart, i)}, expected 0..255`;
        if (count < FER2013_PIXELS) out[count] = value;
        count++;
        value = -1;
      }
    } else {
      let j = i;
      while (j < end && text[j] !== ' ') j++;
      let s = i;
      while (s > 0 && text[s - 1] !== ' ') s--;
      return `pixel ${count + 1} is "${text.slice(s, j)}", not an integer (pixels must be space-separated integers 0..255)`;
    }
  }
  if (count !== FER2013_PIXELS) return `${count} pixels, expected ${FER2013_PIXELS} (48x48)`;
  return null;
}

/** Parse fer2013.csv text already in memory (`source` names it in errors); same rules as a .csv file. */
export function parseFer2013Csv(text: string, source: string, options: Fer2013Options = {}): Fer2013Data {
  const parser = new CsvParser(source, options);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && !parser.full; i++) parser.line(lines[i], i + 1);
  return parser.finish();
}

class CsvParser {
  private header: { emotion: number; pixels: number; usage: number; fields: number } | null = null;
  private readonly images: Uint8Array[] = [];
  private readonly labels: number[] = [];
  private readonly max: number;
  /** The Usage to keep; undefined once we know the file has no Usage column and none was asked for. */
  private want: Fer2013Split | undefined;
  private readonly explicitSplit: boolean;
  private readonly warnings: string[] = [];
  private rows = 0;

  constructor(
    private readonly source: string,
    options: Fer2013Options,
  ) {
    this.max = checkLimit(options.limit);
    this.want = options.split ?? 'PublicTest';
    this.explicitSplit = options.split !== undefined;
  }

  get full(): boolean {
    return this.images.length >= this.max;
  }

  line(raw: string, lineNo: number): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!this.header) {
      const names = splitCsvLine(line.replace(/^\uFEFF/, '')).map((s) => s.trim().toLowerCase());
      const emotion = names.indexOf('emotion');
      const pixels = names.indexOf('pixels');
      if (emotion < 0 || pixels < 0) {
        throw dataError(
          `${this.source}: line ${lineNo}: expected a header with columns emotion,pixels,Usage, got "${line.slice(0, 80)}"`,
        );
      }
      const usage = names.indexOf('usage');
      if (usage < 0 && this.explicitSplit) {
        throw dataError(
          `${this.source}: has no Usage column, so split ${this.want} cannot be picked; leave the split out to read every row`,
        );
      }
      if (usage < 0) {
        this.want = undefined;
        this.warnings.push(`${this.source}: no Usage column; reading every row`);
      }
      this.header = { emotion, pixels, usage, fields: names.length };
      return;
    }
    if (line.trim() === '') return;
    this.rows++;
    const h = this.header;
    const f = splitCsvLine(line);
    const where = `${this.source}: line ${lineNo}`;
    if (f.length !== h.fields)
      throw dataError(`${where}: ${f.length} fields, expected ${h.fields} (emotion,pixels,Usage)`);
    if (h.usage >= 0 && this.want && f[h.usage].trim() !== this.want) return;
    const e = f[h.emotion].trim();
    if (!/^[+-]?\d+$/.test(e)) throw dataError(`${where}: emotion "${e}" is not an integer`);
    const label = Number(e);
    if (label < 0 || label >= EXPRESSION_LABELS.length) throw dataError(`${where}: emotion ${label} is outside 0..6`);
    const px = new Uint8Array(FER2013_PIXELS);
    const bad = parsePixels(f[h.pixels], px);
    if (bad) throw dataError(`${where}: ${bad}`);
    this.images.push(px);
    this.labels.push(label);
  }

  finish(): Fer2013Data {
    if (!this.header) throw dataError(`${this.source}: no header line (expected emotion,pixels,Usage)`);
    const split = this.want;
    if (!this.images.length) {
      throw dataError(`${this.source}: no rows` + (split ? ` with Usage=${split} (of ${this.rows} rows)` : ''));
    }
    return {
      images: this.images,
      labels: Uint8Array.from(this.labels),
      source: split ? `${this.source} (${split})` : this.source,
      warnings: this.warnings,
    };
  }
}

async function loadFer2013Csv(path: string, options: Fer2013Options): Promise<Fer2013Data> {
  const s = await stat(path);
  if (s.size === 0) throw new FerkitError('E_EMPTY', `${path}: file is empty (0 bytes)`);
  const parser = new CsvParser(path, options);
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      parser.line(line, ++lineNo);
      if (parser.full) break;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return parser.finish();
}

// -------------------------------------------------------------------------------------------- folder

interface FolderEntry {
  file: string;
  label: number;
}

async function listDirs(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** PIL's convert("L") luma, in integers: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
function rgbToPilGray(rgb: Uint8Array, out: Uint8Array): void {
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = (rgb[j] * 19595 + rgb[j + 1] * 38470 + rgb[j + 2] * 7471 + 0x8000) >>> 16;
  }
}

async function loadFer2013Folder(path: string, options: Fer2013Options): Promise<Fer2013Data> {
  const max = checkLimit(options.limit);
  const warnings: string[] = [];
  let root = path;
  let split: Fer2013Split | undefined;
  let top: string[];
  try {
    top = await listDirs(path);
  } catch (e) {
    throw new FerkitError('E_NOT_FOUND', `${path}: cannot read folder (${(e as Error).message})`, { cause: e });
  }
  const sub = (name: string) => top.find((d) => d.toLowerCase() === name);
  if (sub('train') || sub('test')) {
    split = options.split ?? 'PublicTest';
    const want = split === 'Training' ? 'train' : 'test';
    const dir = sub(want);
    if (!dir) throw dataError(`${path}: has ${top.join(', ')} but no ${want}/ folder for split ${split}`);
    root = join(path, dir);
    top = await listDirs(root);
  } else if (options.split) {
    warnings.push(`${path}: no train/ or test/ subfolders; split ${options.split} is ignored`);
  }

  const entries: FolderEntry[] = [];
  let skipped = 0;
  for (const cls of top) {
    const dir = join(root, cls);
    const label = FOLDER_CLASS_NAMES[cls.toLowerCase()];
    if (label === undefined) {
      throw dataError(
        `${dir}: unknown class folder "${cls}"; expected one of ${EXPRESSION_LABELS.join(', ')} ` +
          `(or anger, disgusted, fearful, happiness, sadness, surprised)`,
      );
    }
    const files = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    for (const name of files) {
      if (name.startsWith('.') || !IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) {
        skipped++;
        continue;
      }
      entries.push({ file: join(dir, name), label });
    }
  }
  if (skipped) warnings.push(`${root}: skipped ${skipped} file(s) that are hidden or have no image extension`);
  if (!entries.length) throw dataError(`${root}: no class folders with images (expected <class>/*.png|jpg)`);

  let chosen = entries;
  if (entries.length > max) {
    chosen = Array.from({ length: max }, (_, i) => entries[Math.floor((i * entries.length) / max)]);
  }

  const { default: sharp } = await import('sharp');
  const images: Uint8Array[] = new Array(chosen.length);
  const labels = new Uint8Array(chosen.length);
  let resized = 0;
  const decode = async (k: number) => {
    const { file, label } = chosen[k];
    let data: Buffer;
    let width: number;
    let height: number;
    try {
      const meta = await sharp(file).metadata();
      width = meta.width ?? 0;
      height = meta.height ?? 0;
      if ((width !== FER2013_SIZE || height !== FER2013_SIZE) && !options.resize) {
        throw dataError(`${file}: image is ${width}x${height}, expected 48x48 (use the resize option to scale it)`);
      }
      let img = sharp(file, { pages: 1 }).toColourspace('srgb').removeAlpha();
      if (width !== FER2013_SIZE || height !== FER2013_SIZE) {
        img = img.resize(FER2013_SIZE, FER2013_SIZE, { fit: 'cover' });
        resized++;
      }
      const out = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (out.info.channels !== 3 || out.info.width !== FER2013_SIZE || out.info.height !== FER2013_SIZE) {
        throw new Error(`decoded to ${out.info.width}x${out.info.height}x${out.info.channels}`);
      }
      data = out.data;
    } catch (e) {
      if (e instanceof FerkitError) throw e;
      throw dataError(`${file}: cannot decode image (${(e as Error).message})`);
    }
    const grey = new Uint8Array(FER2013_PIXELS);
    rgbToPilGray(new Uint8Array(data.buffer, data.byteOffset, data.length), grey);
    images[k] = grey;
    labels[k] = label;
  };
  let next = 0;
  const worker = async () => {
    while (next < chosen.length) await decode(next++);
  };
  await Promise.all(Array.from({ length: Math.min(8, chosen.length) }, worker));
  if (resized) warnings.push(`${root}: resized ${resized} image(s) that were not 48x48 to 48x48 (centre crop)`);
  return { images, labels, source: split ? `${root} (${split})` : root, warnings };
}
