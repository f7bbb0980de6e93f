/** Where ferkit's own files live when installed: the package root, bundled models, the model cache. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding ferkit's package.json (works from src/ under vitest and from dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'ferkit') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('ferkit: cannot find its package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Expression models trained by ferkit and committed with it. */
export function bundledModelDir(): string {
  return join(packageRoot(), 'models');
}

/** Models converted from other npm packages at install or first use (never committed). */
export function modelCacheDir(): string {
  return resolve(process.env.FERKIT_MODEL_CACHE ?? join(packageRoot(), '.cache', 'models'));
}
