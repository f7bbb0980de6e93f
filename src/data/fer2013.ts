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

import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { FerkitError } from '../errors.js';
import { EXPRESSION_LABELS } from '../types.js';
import { loadFer2013Csv } from './fer2013-csv.js';
import { loadFer2013Folder } from './fer2013-folder.js';
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

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff']);
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

export function dataError(message: string): FerkitError {
  return new FerkitError('E_DATA', message);
}

export function checkLimit(limit: number | undefined): number {
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
