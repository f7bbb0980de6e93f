/**
 * Queue inputs: local paths (made absolute: workers must see the same file system, e.g. a shared
 * volume mounted at the same place) or http(s) URLs; manifests (.txt, one per line); content
 * hashes for job keys; and the bytes a worker analyses.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FerkitError } from '../node/index.js';
import { expandInputs, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS } from '../node/inputs.js';

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** By extension (of the URL's path for URLs). */
export function isVideoInput(file: string): boolean {
  const path = isUrl(file) ? new URL(file).pathname : file;
  return VIDEO_EXTENSIONS.some((e) => path.toLowerCase().endsWith(e));
}

/**
 * Positionals → inputs: URLs as given; a `.txt` file is a manifest (one path or URL per line,
 * blank lines and `#` comments skipped, relative paths from the manifest's folder); folders and
 * globs expand to their images and videos. Paths come back absolute.
 */
export async function expandQueueInputs(positionals: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of positionals) {
    if (isUrl(p)) {
      out.push(p);
      continue;
    }
    if (/\.txt$/i.test(p) && (await stat(p).catch(() => null))?.isFile()) {
      const lines = (await readFile(p, 'utf8')).split(/\r?\n/).map((l) => l.trim());
      const entries = lines.filter((l) => l && !l.startsWith('#'));
      out.push(...(await expandQueueInputs(entries.map((l) => (isUrl(l) ? l : resolve(dirname(p), l))))));
      continue;
    }
    const files = await expandInputs([p], [...IMAGE_EXTENSIONS, ...VIDEO_EXTENSIONS]);
    out.push(...files.map((f) => resolve(f)));
  }
  return out;
}

/** An HTTP status → a FerkitError (404/410: E_NOT_FOUND, permanent) or a plain Error (retry). */
function httpError(url: string, status: number): Error {
  if (status === 404 || status === 410) return new FerkitError('E_NOT_FOUND', `${url}: HTTP ${status}`);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429)
    return new FerkitError('E_INPUT', `${url}: HTTP ${status}`);
  return new Error(`${url}: HTTP ${status} (will retry)`);
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new Error(`${url}: ${(e as Error).cause ?? (e as Error).message} (will retry)`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw httpError(url, res.status);
  }
  return res;
}

/** sha256 of the content, streamed; a clear FerkitError for a missing or unreadable input. */
export async function contentSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  if (isUrl(file)) {
    const res = await fetchOk(file);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    return hash.digest('hex');
  }
  const s = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new FerkitError(
      'E_NOT_FOUND',
      `${file}: ${e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code ?? e.message})`}`,
    );
  });
  if (!s.isFile()) throw new FerkitError('E_INPUT', `${file}: not a file`);
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (e) {
    throw new FerkitError('E_NOT_FOUND', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return hash.digest('hex');
}

/** What the analyzer decodes: the path itself, or a URL's bytes. */
export async function imageSource(file: string): Promise<string | Uint8Array> {
  if (!isUrl(file)) return file;
  const res = await fetchOk(file);
  return new Uint8Array(await res.arrayBuffer());
}
