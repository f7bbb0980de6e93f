/** Running Debian's ffmpeg/ffprobe: where they are, a clear error when they are missing, a bounded run. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { FerkitError } from '../errors.js';

export const ffmpegPath = (): string => process.env.FERKIT_FFMPEG || 'ffmpeg';
export const ffprobePath = (): string => process.env.FERKIT_FFPROBE || 'ffprobe';

export function missingBinary(bin: string, cause: unknown): FerkitError {
  return new FerkitError(
    'E_NOT_FOUND',
    `${bin}: not found — install Debian's ffmpeg (apt-get install ffmpeg) or set ${bin.includes('probe') ? 'FERKIT_FFPROBE' : 'FERKIT_FFMPEG'} to its path`,
    { cause },
  );
}

/** Run a command to completion, collecting stdout/stderr (bounded). */
export function run(
  bin: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      reject(missingBinary(bin, e));
      return;
    }
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 64_000) err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? missingBinary(bin, e) : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
  });
}
