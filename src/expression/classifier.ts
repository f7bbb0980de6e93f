/** Expression classification of aligned grey face crops, on any InferenceRuntime. */
import { FerkitError } from '../errors.js';
import type { InferenceRuntime, ModelSession } from '../runtime/types.js';
import { EXPRESSION_LABELS, type ExpressionLabel, type ExpressionProbabilities } from '../types.js';
import { type ExpressionModelCard, inputSize } from './card.js';

export type TestTimeAugmentation = 'none' | 'flip';

export interface ExpressionClassifierOptions {
  /** Mirror each crop and average the logits (the card's calibration says which mode T was fitted for). */
  tta?: TestTimeAugmentation;
  /** Largest batch sent to the runtime at once (crops × TTA views). */
  maxBatch?: number;
  threads?: number;
}

export interface ExpressionResult {
  label: ExpressionLabel;
  probabilities: ExpressionProbabilities;
}

export class ExpressionClassifier {
  readonly card: ExpressionModelCard;
  readonly size: number;
  readonly tta: TestTimeAugmentation;
  private readonly maxBatch: number;
  private session: ModelSession | null;

  private constructor(session: ModelSession, card: ExpressionModelCard, options: ExpressionClassifierOptions) {
    this.session = session;
    this.card = card;
    this.size = inputSize(card);
    this.tta = options.tta ?? card.calibration.tta;
    this.maxBatch = options.maxBatch ?? 64;
  }

  static async create(
    runtime: InferenceRuntime,
    model: Uint8Array,
    card: ExpressionModelCard,
    source: string,
    options: ExpressionClassifierOptions = {},
  ): Promise<ExpressionClassifier> {
    const session = await runtime.createSession(model, source, { threads: options.threads });
    if (!session.inputNames.includes(card.input.name) || !session.outputNames.includes(card.output.name)) {
      await session.dispose();
      throw new FerkitError(
        'E_MODEL',
        `${source}: model has inputs [${session.inputNames}] and outputs [${session.outputNames}], but its card expects input "${card.input.name}" and output "${card.output.name}"`,
      );
    }
    return new ExpressionClassifier(session, card, options);
  }

  /** Raw logits for crops of size×size grey pixels (mean of views under TTA). */
  async logits(crops: readonly Uint8Array[]): Promise<Float32Array[]> {
    const session = this.session;
    if (!session) throw new FerkitError('E_DISPOSED', 'ExpressionClassifier used after dispose()');
    const n = this.size;
    const px = n * n;
    for (const [i, c] of crops.entries()) {
      if (c.length !== px) throw new FerkitError('E_INPUT', `crop ${i}: ${c.length} pixels, expected ${n}x${n}`);
    }
    const views = this.tta === 'flip' ? 2 : 1;
    const k = EXPRESSION_LABELS.length;
    const out: Float32Array[] = [];
    const perBatch = Math.max(1, Math.floor(this.maxBatch / views));
    for (let start = 0; start < crops.length; start += perBatch) {
      const chunk = crops.slice(start, start + perBatch);
      const input = new Float32Array(chunk.length * views * px);
      chunk.forEach((crop, i) => {
        const base = i * views * px;
        for (let j = 0; j < px; j++) input[base + j] = crop[j];
        if (views === 2) {
          const fb = base + px;
          for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) input[fb + y * n + x] = crop[y * n + (n - 1 - x)];
        }
      });
      const result = await session.run({
        [this.card.input.name]: { data: input, dims: [chunk.length * views, 1, n, n] },
      });
      const z = result[this.card.output.name].data;
      for (let i = 0; i < chunk.length; i++) {
        const mean = new Float32Array(k);
        for (let v = 0; v < views; v++) for (let c = 0; c < k; c++) mean[c] += z[(i * views + v) * k + c] / views;
        out.push(mean);
      }
    }
    return out;
  }

  /** Calibrated probabilities per crop, as plain Float32Arrays in EXPRESSION_LABELS order. */
  async probabilities(crops: readonly Uint8Array[]): Promise<Float32Array[]> {
    const t = this.tta === 'flip' ? this.card.calibration.temperature : this.card.calibration.temperatureNoTta;
    return (await this.logits(crops)).map((z) => softmax(z, t));
  }

  async classify(crops: readonly Uint8Array[]): Promise<ExpressionResult[]> {
    return (await this.probabilities(crops)).map(toExpressionResult);
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.dispose();
  }
}

export function softmax(logits: ArrayLike<number>, temperature = 1): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] / temperature - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export function toExpressionResult(p: ArrayLike<number>): ExpressionResult {
  const probabilities = {} as ExpressionProbabilities;
  let best = 0;
  EXPRESSION_LABELS.forEach((label, i) => {
    probabilities[label] = p[i];
    if (p[i] > p[best]) best = i;
  });
  return { label: EXPRESSION_LABELS[best], probabilities };
}
