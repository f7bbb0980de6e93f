/** Browser host adapter for model files: fetched from URLs, failures as E_MODEL naming the URL. */
import { FerkitError } from '../errors.js';

export function resolveUrl(name: string, base: string): string {
  const origin = (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/';
  return new URL(name, new URL(base, origin)).href;
}

export async function fetchBytes(f: typeof fetch, url: string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await f(url);
  } catch (e) {
    throw new FerkitError('E_MODEL', `${what} ${url}: download failed (${(e as Error).message})`, { cause: e });
  }
  if (!res.ok) throw new FerkitError('E_MODEL', `${what} ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length === 0) throw new FerkitError('E_MODEL', `${what} ${url}: empty file`);
  return bytes;
}

export async function fetchJson(f: typeof fetch, url: string, what: string): Promise<unknown> {
  const bytes = await fetchBytes(f, url, what);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new FerkitError('E_MODEL', `${what} ${url}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

export const withExt = (url: string, ext: string) => url.replace(/(\.[a-z0-9]+)?([?#].*)?$/i, `${ext}$2`);
