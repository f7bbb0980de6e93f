/** The shape every `ferkit <command>` module exports; src/cli/main.ts dispatches to them. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { FerkitError } from '../errors.js';

export interface Command {
  name: string;
  summary: string;
  /** Full --help text. */
  help: string;
  /** --help text for these arguments when a sub-command has its own (e.g. `bench afw --help`); default `help`. */
  helpFor?(argv: string[]): string;
  /** Returns the process exit code: 0 ok, 1 some inputs failed, 2 usage error. */
  run(argv: string[]): Promise<number>;
}

export class UsageError extends Error {}

/** node:util parseArgs with errors turned into UsageError (exit code 2 with the command's help hint). */
type CommandArgsConfig<T> = { args: string[]; options: T; allowPositionals: true; strict: true };

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
): ReturnType<typeof parseArgs<CommandArgsConfig<T>>> {
  try {
    return parseArgs<CommandArgsConfig<T>>({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function parseNumber(
  value: string | undefined,
  flag: string,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${flag}: expected a number in [${min}, ${max}], got "${value}"`);
  return n;
}

export function parseChoice<C extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly C[],
): C | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError(`${flag}: expected one of ${choices.join(', ')}, got "${value}"`);
  return value as C;
}

export function errorMessage(e: unknown): string {
  if (e instanceof FerkitError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
