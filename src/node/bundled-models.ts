/** The models committed in ferkit's models/ folder, by the task their card names. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledModelDir } from './paths.js';

/** 'expression' (FER2013 classifiers) or 'landmarks68' (68-point landmark models). */
export type BundledModelTask = 'expression' | 'landmarks68';

/**
 * Names (file stems) of the bundled .onnx models whose card (<name>.json) says `task`, sorted. A model
 * without a readable card is left out: every model ferkit ships has one.
 */
export function bundledModelNames(task: BundledModelTask, dir = bundledModelDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => f.replace(/\.onnx$/, ''))
    .filter((name) => {
      try {
        return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')).task === task;
      } catch {
        return false;
      }
    })
    .sort();
}
