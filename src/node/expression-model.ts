/** Locate and load an expression model (.onnx + card) from a name in models/ or a path. */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FerkitError } from '../errors.js';
import { type ExpressionModelCard, parseExpressionCard } from '../expression/card.js';
import { DEFAULT_EXPRESSION_MODEL } from '../expression/default-model.js';
import { bundledModelDir } from './paths.js';

export { DEFAULT_EXPRESSION_MODEL };

export interface LoadedModel {
  bytes: Uint8Array;
  card: ExpressionModelCard;
  path: string;
}

export function expressionModelPath(nameOrPath: string): string {
  return nameOrPath.endsWith('.onnx') ? nameOrPath : join(bundledModelDir(), `${nameOrPath}.onnx`);
}

export async function loadExpressionModel(nameOrPath: string = DEFAULT_EXPRESSION_MODEL): Promise<LoadedModel> {
  const path = expressionModelPath(nameOrPath);
  const cardPath = path.replace(/\.onnx$/, '.json');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new FerkitError('E_MODEL', `${path}: expression model not found (${basename(path)})`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(cardPath, 'utf8'));
  } catch (e) {
    throw new FerkitError('E_MODEL', `${cardPath}: model card missing or not JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  return { bytes, card: parseExpressionCard(json, cardPath), path };
}
