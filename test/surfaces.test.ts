/**
 * The surfaces (src/cli, src/server, src/queue, web/src) use the library and never import each
 * other: shared code (records, options, the pipeline) lives in the library, where every surface
 * can reach it. Scans every import/export-from and dynamic import() in their source files.
 *
 * One kind of exception: a CLI command whose job is to start another surface (`ferkit serve`
 * starts the HTTP server; `ferkit queue` / `ferkit worker` the queue) imports that surface, and
 * only that one. Nothing imports the CLI.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SURFACES = ['src/cli', 'src/server', 'src/queue', 'web/src'];

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : /\.(ts|mts|js|mjs)$/.test(name) ? [p] : [];
  });
}

/** Relative module specifiers of static imports/re-exports and dynamic import() calls. */
function importedPaths(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm)) {
    out.push(m[2]);
  }
  return out;
}

/** CLI commands that launch another surface, and the surface each may import. */
const LAUNCHERS: Record<string, string> = {
  'src/cli/serve.ts': 'src/server',
  'src/cli/queue.ts': 'src/queue',
  'src/cli/worker.ts': 'src/queue',
};

const surfaceOf = (file: string) => SURFACES.find((s) => file === s || file.startsWith(`${s}/`));

/** Every import from one surface into another (launchers excepted) under `root`. */
function findCrossings(root: string): { scanned: number; crossings: string[] } {
  const crossings: string[] = [];
  let scanned = 0;
  for (const surface of SURFACES) {
    for (const file of tsFiles(join(root, surface))) {
      scanned++;
      const from = relative(root, file);
      for (const spec of importedPaths(readFileSync(file, 'utf8'))) {
        const target = relative(root, resolve(dirname(file), spec));
        const other = surfaceOf(target);
        if (other && other !== surface && LAUNCHERS[from] !== other) crossings.push(`${from} imports ${target}`);
      }
    }
  }
  return { scanned, crossings };
}

describe('surfaces', () => {
  it('finds the imports it scans for, and sees a crossing', () => {
    const src = `import a from '../cli/x.js';\nexport { b } from "./y.js";\nconst c = await import('../../src/server/z.js');\nimport './side.js';`;
    expect(importedPaths(src)).toEqual(['../cli/x.js', './y.js', '../../src/server/z.js', './side.js']);
    const root = mkdtempSync(join(tmpdir(), 'ferkit-surfaces-'));
    try {
      mkdirSync(join(root, 'src/server'), { recursive: true });
      mkdirSync(join(root, 'web/src'), { recursive: true });
      writeFileSync(join(root, 'src/server/app.ts'), "import { toCsv } from '../cli/format.js';\n");
      writeFileSync(join(root, 'web/src/main.ts'), "import { x } from '../../src/pipeline/records.js';\n");
      expect(findCrossings(root)).toEqual({ scanned: 2, crossings: ['src/server/app.ts imports src/cli/format.js'] });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('no surface imports another', () => {
    const { scanned, crossings } = findCrossings(resolve('.'));
    expect(scanned).toBeGreaterThan(20);
    expect(crossings).toEqual([]);
  });
});
