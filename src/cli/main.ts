#!/usr/bin/env node
/** `ferkit <command>`: thin over the library; one module per command. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../node/paths.js';
import { type Command, errorMessage, UsageError } from './command.js';

const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  analyze: () => import('./analyze.js'),
  models: () => import('./models.js'),
  eval: () => import('./eval.js'),
  bench: () => import('./bench.js'),
  video: () => import('./video.js'),
  camera: () => import('./camera.js'),
  serve: () => import('./serve.js'),
  queue: () => import('./queue.js'),
  worker: () => import('./worker.js'),
};

// `ferkit analyze … | head`: a reader that stops early closes the pipe; that is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

async function usage(): Promise<string> {
  const lines = [
    'ferkit — facial expression recognition: every face, 68 key points, 7 expressions.',
    '',
    'Usage: ferkit <command> [options]',
    '',
    'Commands:',
  ];
  for (const [name, load] of Object.entries(COMMANDS)) {
    try {
      lines.push(`  ${name.padEnd(10)} ${(await load()).default.summary}`);
    } catch {
      // a command whose module is not built yet is simply not listed
    }
  }
  lines.push('', "Run 'ferkit <command> --help' for a command's options.");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`ferkit: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const command = (await load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.helpFor?.(rest) ?? command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ferkit ${name}: ${e.message}\nRun 'ferkit ${name} --help' for usage.`);
      return 2;
    }
    console.error(`ferkit ${name}: ${errorMessage(e)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
