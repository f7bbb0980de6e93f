/** The built CLI for the bench tests, and the checks on a BENCHMARKS.md section that a suite wrote. */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(root, 'dist', 'cli', 'main.js');

/** `node dist/cli/main.js ...args` in the repository root; never rejects. */
export function ferkit(args: string[], timeout = 600_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { cwd: root, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const BEFORE = '# Benchmarks\n\nHand-written intro.\n\n';
const AFTER = '\n\nHand-written outro.\n';

/** A BENCHMARKS.md with people's text around a stale `suite` section; returns its path. */
export async function staleBenchmarksFile(dir: string, suite: string): Promise<string> {
  const file = join(dir, `BENCHMARKS-${suite}.md`);
  await writeFile(file, `${BEFORE}<!-- ferkit:${suite} -->\nstale numbers\n<!-- /ferkit:${suite} -->${AFTER}`);
  return file;
}

/**
 * The file written over staleBenchmarksFile: the text around the section is kept byte for byte, the
 * stale body is replaced by heading, metadata and the command that ran. Returns the new section.
 */
export async function expectSection(file: string, suite: string, heading: string, args: string[]): Promise<string> {
  const doc = await readFile(file, 'utf8');
  const begin = `<!-- ferkit:${suite} -->\n`;
  const end = `\n<!-- /ferkit:${suite} -->`;
  expect(doc.startsWith(`${BEFORE}${begin}`), doc).toBe(true);
  expect(doc.endsWith(`${end}${AFTER}`), doc).toBe(true);
  const section = doc.slice(BEFORE.length + begin.length, doc.length - end.length - AFTER.length);
  expect(section).not.toContain('stale numbers');
  expect(section).not.toContain('<!--');
  expect(section.startsWith(`${heading}\n\n- Machine: `), section).toBe(true);
  expect(section).toContain(`- Command: \`ferkit ${args.join(' ')}\``);
  return section;
}
