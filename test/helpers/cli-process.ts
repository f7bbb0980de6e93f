/** `node dist/cli/main.js …` as a child process: output collected, exit awaited, signals sent. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('dist/cli/main.js');

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves when stderr has printed text matching `re`. */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<void>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          if (re.test(err)) resolve();
          else if (child.exitCode !== null) reject(new Error(`exited (${child.exitCode}) before ${re}:\n${err}`));
          else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${re}:\n${err}`));
          else setTimeout(poll, 50);
        };
        poll();
      });
    },
  };
}

/** Run to completion: exit code and output. */
export async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = runCli(args);
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}
