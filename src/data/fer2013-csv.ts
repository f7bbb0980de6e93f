/** FER2013's original fer2013.csv (emotion, pixels, Usage), parsed in a stream. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { FerkitError } from '../errors.js';
import { EXPRESSION_LABELS } from '../types.js';
import {
  checkLimit,
  dataError,
  FER2013_PIXELS,
  type Fer2013Data,
  type Fer2013Options,
  type Fer2013Split,
} from './fer2013.js';

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

export async function loadFer2013Csv(path: string, options: Fer2013Options): Promise<Fer2013Data> {
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
