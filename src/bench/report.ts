/**
 * BENCHMARKS.md sections owned by the bench commands. Each suite writes only the text between its
 * markers, so the rest of the file (owned by people) is never touched:
 *
 *     <!-- ferkit:robustness -->
 *     …generated…
 *     <!-- /ferkit:robustness -->
 *
 * A section that is not in the file yet is appended at the end. Every section starts with where
 * and how its numbers were made: machine (os.cpus()), date, git commit, Node and the exact command.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, platform, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { packageRoot } from '../node/paths.js';

export interface BenchMeta {
  /** CPU model and count, memory, OS. */
  machine: string;
  /** ISO 8601, UTC. */
  date: string;
  /** Short commit hash, with "+dirty" when tracked files differ from it; "unknown" outside git. */
  commit: string;
  node: string;
  /** The command as typed (reconstructed from argv, shell-quoted). */
  command: string;
}

/** Quote one argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function gitCommit(cwd: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/**
 * The vector extensions that decide ONNX Runtime's int8 and float kernel speed (and PyTorch's
 * bfloat16), from a /proc/cpuinfo `flags` line: the same CPU model name can come with or without
 * AVX-512 on virtual machines, and int8 inference ran ~5× faster with AVX-512 VNNI than with AVX2.
 */
export function vectorExtensions(flags: string): string {
  const has = new Set(flags.split(/\s+/));
  if (has.has('avx512f')) {
    return ['AVX-512', has.has('avx512_vnni') && 'VNNI', has.has('avx512_bf16') && 'BF16'].filter(Boolean).join(' + ');
  }
  if (has.has('avx2')) return has.has('avx_vnni') ? 'AVX2 + AVX-VNNI' : 'AVX2, no AVX-512';
  return has.has('sse4_2') ? 'SSE4.2, no AVX2' : '';
}

function cpuFlags(): string {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return ''; // not Linux
  }
}

export function machineDescription(): string {
  const c = cpus();
  const model = c[0]?.model?.replace(/\s+/g, ' ').trim() || 'unknown CPU';
  const vector = vectorExtensions(cpuFlags());
  return `${model}${vector ? ` (${vector})` : ''} × ${c.length} logical cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()}`;
}

/** Metadata for a section; `argv` defaults to this process's arguments after `ferkit`. */
export function benchMeta(argv: readonly string[] = process.argv.slice(2), date = new Date()): BenchMeta {
  return {
    machine: machineDescription(),
    date: date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    commit: gitCommit(packageRoot()),
    node: process.version,
    command: ['ferkit', ...argv].map(shellQuote).join(' '),
  };
}

export function formatMeta(meta: BenchMeta): string {
  return [
    `- Machine: ${meta.machine}`,
    `- Date: ${meta.date}, commit \`${meta.commit}\`, Node ${meta.node}`,
    `- Command: \`${meta.command}\``,
  ].join('\n');
}

export const beginMarker = (name: string) => `<!-- ferkit:${name} -->`;
export const endMarker = (name: string) => `<!-- /ferkit:${name} -->`;

/** Replace the text between a section's markers, or append the section; the rest is kept byte for byte. */
export function upsertSection(doc: string, name: string, body: string): { text: string; replaced: boolean } {
  if (!/^[\w-]+$/.test(name)) throw new RangeError(`section name must be letters, digits, _ or -: "${name}"`);
  const begin = beginMarker(name);
  const end = endMarker(name);
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(begin);
  if (i >= 0) {
    const j = doc.indexOf(end, i + begin.length);
    if (j < 0) throw new Error(`BENCHMARKS.md: "${begin}" has no matching "${end}"`);
    if (doc.indexOf(begin, i + begin.length) >= 0 && doc.indexOf(begin, i + begin.length) < j) {
      throw new Error(`BENCHMARKS.md: "${begin}" appears twice before "${end}"`);
    }
    return { text: doc.slice(0, i) + block + doc.slice(j + end.length), replaced: true };
  }
  const sep = doc.length === 0 ? '' : doc.endsWith('\n\n') ? '' : doc.endsWith('\n') ? '\n' : '\n\n';
  return { text: `${doc}${sep}${block}\n`, replaced: false };
}

export function defaultBenchmarksPath(): string {
  return join(packageRoot(), 'BENCHMARKS.md');
}

/** A Markdown table; columns from `rightFrom` on are right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], rightFrom = 1): string {
  const align = header.map((_, i) => (i >= rightFrom ? '---:' : '---'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The command-line options of every suite that can write its section (for parseArgs). */
export const BENCHMARKS_ARGS = {
  'write-benchmarks': { type: 'boolean' },
  'benchmarks-file': { type: 'string' },
} as const;

/** Parsed values of BENCHMARKS_ARGS, and --json (which moves the "wrote …" note to stderr). */
export interface BenchmarksArgs {
  'write-benchmarks'?: boolean;
  'benchmarks-file'?: string;
  json?: boolean;
}

/** --help lines for BENCHMARKS_ARGS; `suite` names the markers, descriptions start at `column`. */
export function benchmarksHelp(suite = 'SUITE', column = 24): string {
  const file = relative(process.cwd(), defaultBenchmarksPath()) || 'BENCHMARKS.md';
  const line = (flag: string, text: string) => `  ${flag}`.padEnd(column) + text;
  return [
    line(
      '--write-benchmarks',
      `also write the ${suite === 'SUITE' ? "suite's" : suite} section of BENCHMARKS.md (between`,
    ),
    line('', `<!-- ferkit:${suite} --> markers; the rest of the file is kept)`),
    line('--benchmarks-file F', `that file (default ${file})`),
  ].join('\n');
}

/**
 * With --write-benchmarks, write a suite's section (see writeBenchmarksSection) and say so; under
 * --json the note goes to stderr so stdout stays one JSON document. `body` may be a function of the
 * resolved file, e.g. for links relative to it. Without --write-benchmarks nothing happens.
 */
export async function writeRequestedSection(
  args: BenchmarksArgs,
  name: string,
  heading: string,
  body: string | ((file: string) => string),
): Promise<void> {
  if (!args['write-benchmarks']) return;
  const file = resolve(args['benchmarks-file'] ?? defaultBenchmarksPath());
  const w = await writeBenchmarksSection(name, heading, typeof body === 'string' ? body : body(file), { file });
  (args.json ? console.error : console.log)(`${w.replaced ? 'updated' : 'added'} the ${name} section of ${w.file}`);
}

/** Write one section (heading, metadata, body) into BENCHMARKS.md, creating the file if needed. */
export async function writeBenchmarksSection(
  name: string,
  heading: string,
  body: string,
  options: { file?: string; meta?: BenchMeta } = {},
): Promise<{ file: string; replaced: boolean }> {
  const file = options.file ?? defaultBenchmarksPath();
  const meta = options.meta ?? benchMeta();
  const doc = existsSync(file) ? await readFile(file, 'utf8') : '';
  const section = `${heading}\n\n${formatMeta(meta)}\n\n${body.trim()}\n`;
  const { text, replaced } = upsertSection(doc, name, section);
  await writeFile(file, text);
  return { file, replaced };
}
