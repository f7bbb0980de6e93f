/**
 * Node: build a small C++ program against Debian's dlib (`libdlib-dev`) once and cache the binary.
 * Used to extract dlib's HOG detector weights from its headers (a one-time step) and, in the test
 * suite, to build reference programs that give dlib's own output for comparison. Nothing of dlib is
 * committed: the headers and the library come from the Debian package at build time.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FerkitError } from '../errors.js';
import { modelCacheDir } from './paths.js';

const execFileAsync = promisify(execFile);

/** Where Debian's libdlib-dev puts dlib's headers. */
export const DLIB_INCLUDE_DIR = '/usr/include/dlib';

/** g++ flags: dlib's library and the BLAS/LAPACK it was built against (Debian's libblas-dev, liblapack-dev). */
const LINK_FLAGS = ['-ldlib', '-lpthread', '-llapack', '-lblas', '-lpng', '-ljpeg', '-lz'];
const COMPILE_FLAGS = ['-O2', '-std=c++17', '-DDLIB_NO_GUI_SUPPORT'];

export interface DlibProgram {
  /** A short name for the binary and for messages, e.g. 'dlib-hog-extract'. */
  name: string;
  /** The C++ source text. */
  source: string;
  /** Where binaries are cached; default `<model cache>/../dlib` (i.e. `.cache/dlib/`). */
  cacheDir?: string;
}

/** The cache folder for built dlib programs (`.cache/dlib/` beside `.cache/models/`). */
export function dlibBuildDir(): string {
  return join(modelCacheDir(), '..', 'dlib');
}

/**
 * Compile `source` against dlib unless a binary for exactly this source and these flags is cached;
 * return the binary's path. Missing g++ or libdlib-dev is E_MODEL naming what to install.
 */
export async function buildDlibProgram(program: DlibProgram): Promise<string> {
  const dir = program.cacheDir ?? dlibBuildDir();
  const key = createHash('sha256')
    .update(program.source)
    .update([...COMPILE_FLAGS, ...LINK_FLAGS].join(' '))
    .digest('hex')
    .slice(0, 16);
  const binary = join(dir, `${program.name}-${key}`);
  if (existsSync(binary)) return binary;
  if (!existsSync(DLIB_INCLUDE_DIR))
    throw new FerkitError(
      'E_MODEL',
      `${program.name}: dlib's headers are not installed (${DLIB_INCLUDE_DIR} not found): apt-get install libdlib-dev libblas-dev liblapack-dev`,
    );
  await mkdir(dir, { recursive: true });
  const sourcePath = `${binary}.cpp`;
  await writeFile(sourcePath, program.source);
  // Build to a temporary name and rename, so a concurrent or interrupted build never leaves a half-written binary.
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    await execFileAsync('g++', [...COMPILE_FLAGS, '-o', tmp, sourcePath, ...LINK_FLAGS], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT')
      throw new FerkitError('E_MODEL', `${program.name}: g++ not found (apt-get install g++)`, { cause: e });
    const stderr = (err.stderr ?? '').split('\n').slice(0, 20).join('\n');
    const hint = /cannot find -l|No such file/.test(stderr)
      ? ' (apt-get install libdlib-dev libblas-dev liblapack-dev)'
      : '';
    throw new FerkitError('E_MODEL', `${program.name}: building against dlib failed${hint}:\n${stderr}`, {
      cause: e,
    });
  }
  await rename(tmp, binary);
  return binary;
}
