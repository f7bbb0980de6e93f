/** Expand CLI inputs (files, folders, globs) into a sorted list of image paths. */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

export const VIDEO_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.mpg', '.mpeg', '.ts'];

const hasExtension = (p: string, extensions: readonly string[]) => extensions.some((e) => p.toLowerCase().endsWith(e));

/** `*` and `?` within a path segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/**
 * Folders contribute their files with these extensions (default: images), recursively; globs the files they match; anything else is
 * passed through as a file, so a missing path is reported per file instead of aborting the batch.
 */
export async function expandInputs(
  inputs: readonly string[],
  extensions: readonly string[] = IMAGE_EXTENSIONS,
): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (/[*?]/.test(input)) {
      const abs = resolve(input).split(sep).join('/');
      const base = abs.slice(0, abs.search(/[*?]/)).replace(/\/[^/]*$/, '') || '/';
      const re = globToRegExp(abs);
      const files = (await walk(base).catch(() => [])).filter((f) => re.test(f.split(sep).join('/')));
      out.push(...files.sort());
      continue;
    }
    const s = await stat(input).catch(() => null);
    if (s?.isDirectory()) out.push(...(await walk(input)).filter((f) => hasExtension(f, extensions)).sort());
    else out.push(input);
  }
  return out;
}
