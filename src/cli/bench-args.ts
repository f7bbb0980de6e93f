/** Argument parsing and endings shared by the bench suites: suite flags, severities, FER2013 data, BENCHMARKS.md sections. */
import { dirname, relative, resolve, sep } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { BENCHMARKS_ARGS, type BenchmarksArgs, writeRequestedSection } from '../bench/report.js';
import {
  FER2013_SPLITS,
  type Fer2013Data,
  type Fer2013Split,
  loadFer2013,
  parseFer2013Split,
} from '../data/fer2013.js';
import { parseCommandArgs, parseNumber, UsageError } from './command.js';

/** Options every suite in this file takes: --json and the BENCHMARKS.md ones. */
const SUITE_ARGS = { json: { type: 'boolean' }, ...BENCHMARKS_ARGS } as const;

/** parseCommandArgs with SUITE_ARGS added; positionals are refused unless the suite takes them. */
export function parseSuiteArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  takesPositionals = false,
) {
  const parsed = parseCommandArgs(argv, { ...options, ...SUITE_ARGS });
  if (!takesPositionals && parsed.positionals.length)
    throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return parsed;
}

export function parseSeverities(value: string | undefined): number[] {
  if (value === undefined) return [1, 2, 3, 4, 5];
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^\s*(\d)\s*(?:-\s*(\d)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`--severities: expected e.g. 1-5 or 1,3,5, got "${value}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b > 5 || a > b) throw new UsageError(`--severities: severities are 1..5, got "${part.trim()}"`);
    for (let s = a; s <= b; s++) out.add(s);
  }
  return [...out].sort((x, y) => x - y);
}

export function parseInteger(
  value: string | undefined,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const n = parseNumber(value, flag, min, max);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  return n;
}

function parseSplit(value: string | undefined): Fer2013Split | undefined {
  if (value === undefined) return undefined;
  const split = parseFer2013Split(value);
  if (!split) throw new UsageError(`--split: expected one of ${FER2013_SPLITS.join(', ')}, got "${value}"`);
  return split;
}

export async function loadData(
  values: { data?: string; split?: string; limit?: string },
  suite: string,
): Promise<Fer2013Data> {
  if (!values.data)
    throw new UsageError(`bench ${suite}: --data is required (a FER2013 .bin, fer2013.csv or image folder)`);
  const data = await loadFer2013(values.data, {
    split: parseSplit(values.split),
    limit: parseInteger(values.limit, '--limit', 1),
  });
  for (const w of data.warnings) console.error(`ferkit bench ${suite}: warning: ${w}`);
  return data;
}

/**
 * How a timing suite ends: its BENCHMARKS.md section when --write-benchmarks asks for one, then the
 * result on stdout, as indented JSON with --json or as the suite's text table.
 */
export async function finishTimingSuite<T>(
  values: BenchmarksArgs,
  result: T,
  format: (result: T) => string,
  section: { name: string; heading: string; body: string },
): Promise<number> {
  await writeRequestedSection(values, section.name, section.heading, section.body);
  console.log(values.json ? JSON.stringify(result, null, 2) : format(result));
  return 0;
}

/** Markdown image links from BENCHMARKS.md to files, when they live beside it (in the repo). */
export function imageLinks(benchmarksFile: string, files: Record<string, string>): string {
  const base = dirname(resolve(benchmarksFile));
  const links = Object.entries(files)
    .map(([alt, f]) => [alt, relative(base, f)] as const)
    .filter(([, rel]) => !rel.startsWith('..') && !rel.startsWith(sep))
    .map(([alt, rel]) => `![${alt}](${rel.split(sep).join('/')})`);
  return links.join('\n\n');
}
