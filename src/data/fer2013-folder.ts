/** FER2013 as an image folder (one sub-folder per class, e.g. Kaggle's train/ and test/), read with sharp. */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FerkitError } from '../errors.js';
import { EXPRESSION_LABELS } from '../types.js';
import {
  checkLimit,
  dataError,
  FER2013_PIXELS,
  FER2013_SIZE,
  type Fer2013Data,
  type Fer2013Options,
  type Fer2013Split,
  FOLDER_CLASS_NAMES,
  IMAGE_EXTENSIONS,
} from './fer2013.js';

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

export async function loadFer2013Folder(path: string, options: Fer2013Options): Promise<Fer2013Data> {
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
