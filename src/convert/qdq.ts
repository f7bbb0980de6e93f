/**
 * Static int8 quantization in ONNX's QDQ form, for converters that build their graph with
 * GraphBuilder (the SSD detector: ./faceapi-ssd-int8.ts).
 *
 * QDQ form: every quantized activation is a QuantizeLinear (float → uint8) followed, at each
 * consumer, by its own DequantizeLinear; every quantized conv reads its weight through a
 * DequantizeLinear of an int8 initializer (per output channel, symmetric) and its bias through one
 * of an int32 initializer (scale = input scale × weight scale, zero point 0). ONNX Runtime's graph
 * optimizer recognises DQ → Conv → (Clip) → Q and runs it as one QLinearConv (uint8 activations ×
 * int8 weights, VNNI on CPUs that have it); Clip(0, 6) before a Q whose range lies inside [0, 6] is
 * dropped as redundant. A DQ per consumer because ORT's node-unit selectors expect unshared DQs.
 *
 * Weights: per-channel symmetric int8; `reduceRange` keeps them in 7 bits (−63..63) so that the
 * u8×s8 pair sums of AVX2's vpmaddubsw (2 · 255 · 127 overflows int16) cannot saturate on CPUs
 * without VNNI: the same model then gives the same results everywhere.
 */
import { attr, type GraphBuilder } from './onnx-writer.js';
import { type Feature, type TfConvSpec, tfConvNode, tfConvSame } from './tf-layers.js';

/** The observed range of one activation tensor over the calibration inputs. */
export interface QuantRange {
  min: number;
  max: number;
}

/** uint8 affine parameters covering `range` (widened to contain 0, as QDQ requires 0 to be exact). */
export function uint8Params(range: QuantRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    throw new Error(`qdq: activation range [${lo}, ${hi}] is not finite`);
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Per-output-channel symmetric int8 weights: channel c (the first axis) is `values / scales[c]`
 * rounded into ±qmax, qmax 63 with `reduceRange` (7-bit), else 127. scales[c] is the channel's
 * max |w| / qmax, or `grid[c]` when the channel's weights already lie on multiples of grid[c] that
 * fit in ±qmax: weights that were stored quantized (face-api's uint8) are then represented
 * exactly instead of being rounded a second time onto another grid.
 */
export function quantizePerChannel(
  weight: Float32Array,
  outChannels: number,
  reduceRange: boolean,
  grid?: Float32Array,
): { values: Int8Array; scales: Float32Array } {
  if (weight.length % outChannels !== 0) throw new Error(`qdq: ${weight.length} weights for ${outChannels} channels`);
  const qmax = reduceRange ? 63 : 127;
  const per = weight.length / outChannels;
  const values = new Int8Array(weight.length);
  const scales = new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) {
    let absMax = 0;
    for (let i = c * per; i < (c + 1) * per; i++) absMax = Math.max(absMax, Math.abs(weight[i]));
    const step = grid?.[c] ?? 0;
    let onGrid = step > 0;
    for (let i = c * per; onGrid && i < (c + 1) * per; i++) {
      onGrid = Math.abs(weight[i] / step - Math.round(weight[i] / step)) < 1e-3;
    }
    // On the grid and within ±qmax: its own step (exact); else max |w| / qmax. (Coarser multiples of
    // the step for the channels that do not fit measured far worse in 7 bits: ~3x the box error.)
    const fits = onGrid && Math.round(absMax / step) <= qmax;
    const scale = fits ? Math.fround(step) : absMax > 0 ? Math.fround(absMax / qmax) : 1;
    scales[c] = scale;
    for (let i = c * per; i < (c + 1) * per; i++) {
      values[i] = Math.max(-qmax, Math.min(qmax, Math.round(weight[i] / scale)));
    }
  }
  return { values, scales };
}

/** int32 bias at scale inputScale × weightScales[c] (what QLinearConv adds to its int32 accumulator). */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): Int32Array {
  return Int32Array.from(bias, (b, c) => Math.round(b / Math.fround(inputScale * weightScales[c])));
}

interface QuantizedActivation {
  q: string;
  scale: number;
  scaleName: string;
  zeroPointName: string;
}

/** Adds QDQ nodes to one graph: activations via quantize(), convolutions via conv(). */
export class QdqBuilder {
  private readonly activations = new Map<string, QuantizedActivation>();

  constructor(
    private readonly g: GraphBuilder,
    private readonly reduceRange: boolean,
  ) {}

  /** Quantizes the float tensor `tensor` (already in the graph) to uint8 over `range`. */
  quantize(tensor: string, range: QuantRange): void {
    if (this.activations.has(tensor)) throw new Error(`qdq: ${tensor} is quantized twice`);
    const { scale, zeroPoint } = uint8Params(range);
    const scaleName = this.g.float(`${tensor}/q_scale`, scale);
    const zeroPointName = this.g.initializer(`${tensor}/q_zero_point`, Uint8Array.of(zeroPoint), []);
    const q = this.g.node('QuantizeLinear', [tensor, scaleName, zeroPointName], {}, `${tensor}/quantize`);
    this.activations.set(tensor, { q, scale, scaleName, zeroPointName });
  }

  /** A fresh DequantizeLinear of a quantized tensor, for one consumer. */
  dequantize(tensor: string): string {
    const a = this.activation(tensor);
    return this.g.node('DequantizeLinear', [a.q, a.scaleName, a.zeroPointName], {}, `${tensor}/dequantize`);
  }

  /**
   * tfConvSame on the quantized tensor `x.name`: int8 per-channel weights (on `grid` where they fit,
   * see quantizePerChannel), int32 bias. With `floatWeights` only the input is dequantized and the weights stay float (accuracy-sensitive
   * layers such as prediction heads, whose outputs stay float anyway).
   */
  conv(x: Feature, spec: TfConvSpec, options: { floatWeights?: boolean; grid?: Float32Array } = {}): Feature {
    const { kernel: k, outChannels, group = 1 } = spec;
    const dims = [outChannels, x.channels / group, k, k];
    const input = this.dequantize(x.name);
    if (options.floatWeights) return tfConvSame(this.g, { ...x, name: input }, spec);
    const { values, scales } = quantizePerChannel(spec.weight, outChannels, this.reduceRange, options.grid);
    const axis0 = { axis: attr.int(0) };
    const w = this.g.node(
      'DequantizeLinear',
      [
        this.g.initializer(`${spec.name}/W_int8`, values, dims),
        this.g.initializer(`${spec.name}/W_scale`, scales, [outChannels]),
        this.g.initializer(`${spec.name}/W_zero_point`, new Int8Array(outChannels), [outChannels]),
      ],
      axis0,
      `${spec.name}/W`,
    );
    const inputs = [input, w];
    if (spec.bias) {
      const inputScale = this.activation(x.name).scale;
      const biasScales = Float32Array.from(scales, (s) => inputScale * s);
      inputs.push(
        this.g.node(
          'DequantizeLinear',
          [
            this.g.initializer(`${spec.name}/B_int32`, quantizeBias(spec.bias, inputScale, scales), [outChannels]),
            this.g.initializer(`${spec.name}/B_scale`, biasScales, [outChannels]),
            this.g.initializer(`${spec.name}/B_zero_point`, new Int32Array(outChannels), [outChannels]),
          ],
          axis0,
          `${spec.name}/B`,
        ),
      );
    }
    return tfConvNode(this.g, x, inputs, spec);
  }

  private activation(tensor: string): QuantizedActivation {
    const a = this.activations.get(tensor);
    if (!a) throw new Error(`qdq: ${tensor} is not quantized`);
    return a;
  }
}
