/** Expression model cards: the JSON written beside each `.onnx` by training/ferkit_train/export.py. */
import { FerkitError } from '../errors.js';
import { EXPRESSION_LABELS } from '../types.js';

export interface ExpressionModelCard {
  name: string;
  task: 'expression';
  file: string;
  family: string;
  labels: string[];
  input: {
    name: string;
    shape: (string | number)[];
    color: 'gray';
    pixelRange: [number, number];
    normalization: { mean: number; std: number; inGraph: boolean };
  };
  output: { name: string; kind: 'logits' };
  calibration: { tta: 'flip' | 'none'; temperature: number; temperatureNoTta: number; method?: string };
  /** Arithmetic of the graph: 'int8' graphs are quantized (QuantizeLinear/DequantizeLinear); absent on older cards = 'fp32'. */
  precision?: 'fp32' | 'int8';
  parameters: number;
  macs: number;
  flops: number;
  metrics: {
    split: string;
    n: number;
    accuracy: number;
    accuracyTta: number;
    macroF1: number;
    macroF1Tta: number;
    ece: number;
    eceNoTta: number;
    eceUncalibrated: number;
    [key: string]: unknown;
  };
  training: { command: string; commit: string; epochs: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** Check the fields the runtime relies on, so a wrong card fails at load with its name, not later. */
export function parseExpressionCard(json: unknown, source: string): ExpressionModelCard {
  const fail = (what: string): never => {
    throw new FerkitError('E_MODEL', `${source}: invalid model card: ${what}`);
  };
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const c = json as Partial<ExpressionModelCard>;
  if (c.task !== 'expression') fail(`task is ${JSON.stringify(c.task)}, expected "expression"`);
  if (!Array.isArray(c.labels) || c.labels.join() !== EXPRESSION_LABELS.join()) {
    fail(`labels must be ${EXPRESSION_LABELS.join(', ')} in that order`);
  }
  const shape = c.input?.shape;
  if (!c.input?.name || !Array.isArray(shape) || shape.length !== 4 || shape[1] !== 1 || typeof shape[2] !== 'number') {
    fail('input must be { name, shape: [batch, 1, size, size] }');
  }
  if (c.input?.color !== 'gray') fail('input.color must be "gray"');
  if (c.precision !== undefined && c.precision !== 'fp32' && c.precision !== 'int8')
    fail(`precision is ${JSON.stringify(c.precision)}, expected "fp32" or "int8"`);
  if (!c.output?.name) fail('output.name is missing');
  const t = c.calibration?.temperature;
  const t0 = c.calibration?.temperatureNoTta;
  if (!(typeof t === 'number' && t > 0 && typeof t0 === 'number' && t0 > 0))
    fail('calibration temperatures must be > 0');
  return c as ExpressionModelCard;
}

export function inputSize(card: ExpressionModelCard): number {
  return card.input.shape[2] as number;
}
