/**
 * SSD priors for face-api's SSD MobileNetV1 at any input size, square or not: a TypeScript port of the
 * TensorFlow Object Detection API's anchor generation, which produced face-api's shipped table
 * (the 5118 × 4 weight `Output/extra_dim` for the 512-px input):
 *
 *   object_detection/anchor_generators/multiple_grid_anchor_generator.py
 *     create_ssd_anchors(num_layers=6, min_scale=0.2, max_scale=0.95,
 *                        aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333),
 *                        base_anchor_size=[1, 1], reduce_boxes_in_lowest_layer=True)
 *     MultipleGridAnchorGenerator._generate(feature_map_shape_list, im_height=1, im_width=1)
 *   object_detection/anchor_generators/grid_anchor_generator.py  tile_anchors()
 *
 *  - scales s_k = min + (max − min)·k/(L − 1) for k = 0..L−1, then 1.0 appended;
 *  - layer 0 (reduced): (0.1, ar 1), (s_0, ar 2), (s_0, ar 0.5) → 3 anchors per cell;
 *  - layer k ≥ 1: (s_k, ar) for each of the 5 aspect ratios, with (√(s_k·s_{k+1}), ar 1) inserted right
 *    after the aspect-ratio-1 anchor → 6 per cell. That position is the TF OD API of 2017, which
 *    face-api's model was exported with; later versions append the interpolated anchor LAST
 *    (`interpolated_scale_aspect_ratio`), which would permute face-api's table within each cell;
 *  - an anchor of scale s and aspect ratio a has height s/√a·base[0], width s·√a·base[1];
 *  - feature map k of G×G cells: centre of row/column i at i·stride_k + offset_k, by default
 *    stride 1/G and offset 0.5/G;
 *  - order (row, column, anchor), corners [ymin, xmin, ymax, xmax] = centre ∓ size/2, not clipped.
 *
 * TF computes these in float32; this port computes in float64 and rounds once to float32, which
 * reproduces face-api's table to 1.2e-7 (test/ssd-anchors.test.ts asserts < 1e-5).
 *
 * Feature-map sizes. The grids are the spatial sizes of the six feature maps the box predictors read
 * for an input of S pixels: MobileNetV1's conv 11 (stride 16) and conv 13 (stride 32), then four
 * extra stride-2 layers. All convolutions use TF 'same' padding, so every stride-2 layer maps n to
 * ceil(n/2): 512 → 32, 16, 8, 4, 2, 1; 448 → 28, 14, 7, 4, 2, 1; 320 → 20, 10, 5, 3, 2, 1.
 *
 * Two ways to place anchors at S ≠ 512 ('mode'):
 *  - 'relative': the TF generator's defaults for the new grids (scales relative to the image,
 *    stride 1/G). That is what TF would generate to TRAIN a model at S. For face-api's network,
 *    trained at 512 only, it is wrong: the predictors' outputs are encodings relative to the anchor
 *    they learned, and a convolutional network's features depend on a face's size in PIXELS, so a
 *    P-pixel face at S yields the encoding the network learned for a P-pixel face at 512. Decoding
 *    it against an anchor that is S/512 times smaller shrinks every box by S/512 (measured: at 320
 *    boxes come out ~0.63× face-api's, recall at IoU 0.5 collapses to ~5%).
 *  - 'pixel' (default, used by the converter): the same generator with its own base_anchor_size,
 *    anchor_strides and anchor_offsets parameters set so that every anchor keeps, in pixels, the
 *    geometry it had at 512 relative to its cell: sizes × 512/S, stride T_k/S for the layer's pixel
 *    stride T_k = 16·2^k, and the offset following the cell's receptive-field centre, which moves
 *    when a stride-2 'same' convolution meets an odd input (TF then pads 1 on top instead of 0).
 *    At S = 512 both modes are the plain defaults, i.e. face-api's table.
 *
 * Rectangular inputs (H × W, e.g. 320 × 224 for a 3:2 photo, so the detector does not spend a third
 * of its work on padding): the generator is separable, every quantity above is per axis, so a
 * rectangle's anchors are the square-H table's y-parameters paired with the square-W table's
 * x-parameters ('pixel' mode: anchor sizes in pixels are unchanged, only the unit changes per axis).
 */

/** The path from the input to each box predictor input: stride-2 3×3 convolutions (1×1 and stride-1 3×3 layers do not move centres). */
const STRIDE2_LAYERS_TO_HEAD0 = 4; // conv_0, dw_2, dw_4, dw_6 → stride 16 at conv 11
/** Stride-2 layers between the six predictor inputs: dw_12, then Prediction/Conv2d_{1,3,5,7}. */
const STRIDE2_BETWEEN_HEADS = 5;
/** The input size face-api's network was trained and exported at. */
export const FACEAPI_SSD_TRAINED_SIZE = 512;

export type SsdAnchorMode = 'pixel' | 'relative';

export interface SsdAnchorConfig {
  numLayers: number;
  minScale: number;
  maxScale: number;
  aspectRatios: readonly number[];
  /** Aspect ratio of the extra anchor with the interpolated scale √(s_k·s_{k+1}); ≤ 0 disables it. */
  interpolatedScaleAspectRatio: number;
  /**
   * Where that extra anchor goes in each cell: 'after-unit-ratio' (TF OD API 2017, face-api's table:
   * right after the aspect-ratio-1 anchor) or 'last' (later TF OD API versions).
   */
  interpolatedPosition: 'after-unit-ratio' | 'last';
  reduceBoxesInLowestLayer: boolean;
}

/** face-api's SSD MobileNetV1 (TF OD API ssd_mobilenet_v1 config). */
export const FACEAPI_SSD_ANCHOR_CONFIG: SsdAnchorConfig = {
  numLayers: 6,
  minScale: 0.2,
  maxScale: 0.95,
  // 0.3333 as written in the TF OD API sample configs (not 1/3): face-api's table has it.
  aspectRatios: [1.0, 2.0, 0.5, 3.0, 0.3333],
  interpolatedScaleAspectRatio: 1.0,
  interpolatedPosition: 'after-unit-ratio',
  reduceBoxesInLowestLayer: true,
};

/** TF 'same' padding before (top/left) for a stride-2, 3×3 convolution on n inputs. */
function samePadBefore(n: number): number {
  const out = Math.ceil(n / 2);
  return Math.floor(Math.max((out - 1) * 2 + 3 - n, 0) / 2);
}

/** The sizes of every stride-2 layer's input along the path, then the six head grids. */
function stridePath(inputSize: number): { inputs: number[]; heads: number[] } {
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new RangeError(`SSD input size must be a positive integer, got ${inputSize}`);
  }
  const inputs: number[] = [];
  const heads: number[] = [];
  let n = inputSize;
  for (let i = 0; i < STRIDE2_LAYERS_TO_HEAD0 + STRIDE2_BETWEEN_HEADS; i++) {
    inputs.push(n);
    n = Math.ceil(n / 2);
    if (i >= STRIDE2_LAYERS_TO_HEAD0 - 1) heads.push(n);
  }
  return { inputs, heads };
}

/** Spatial sizes (square) of the six feature maps read by the box predictors, for an input of `inputSize`. */
export function ssdFeatureMapSizes(inputSize: number): number[] {
  return stridePath(inputSize).heads;
}

/**
 * Receptive-field centre of cell 0 of each head, in input-pixel index units: cell i of head k is
 * centred on pixel T_k·i + c_k. A stride-2 3×3 'same' conv maps output x to input 2x − padBefore + 1.
 */
export function ssdReceptiveOffsets(inputSize: number): number[] {
  const { inputs } = stridePath(inputSize);
  const offsets: number[] = [];
  for (let k = 0; k < STRIDE2_BETWEEN_HEADS + 1; k++) {
    const depth = STRIDE2_LAYERS_TO_HEAD0 + k; // stride-2 layers up to head k
    let c = 0;
    for (let l = depth - 1; l >= 0; l--) c = 2 * c - samePadBefore(inputs[l]) + 1;
    offsets.push(c);
  }
  return offsets;
}

/** (scale, aspect ratio) pairs per layer: create_ssd_anchors' box_specs_list. */
export function ssdBoxSpecs(config: SsdAnchorConfig = FACEAPI_SSD_ANCHOR_CONFIG): [number, number][][] {
  const { numLayers: L, minScale, maxScale } = config;
  const scales = Array.from({ length: L }, (_, i) => minScale + ((maxScale - minScale) * i) / (L - 1));
  scales.push(1.0);
  const specs: [number, number][][] = [];
  for (let layer = 0; layer < L; layer++) {
    const scale = scales[layer];
    const next = scales[layer + 1];
    if (layer === 0 && config.reduceBoxesInLowestLayer) {
      specs.push([
        [0.1, 1.0],
        [scale, 2.0],
        [scale, 0.5],
      ]);
      continue;
    }
    const layerSpecs: [number, number][] = [];
    const extra: [number, number] | null =
      config.interpolatedScaleAspectRatio > 0 ? [Math.sqrt(scale * next), config.interpolatedScaleAspectRatio] : null;
    for (const a of config.aspectRatios) {
      layerSpecs.push([scale, a]);
      if (extra && config.interpolatedPosition === 'after-unit-ratio' && a === 1.0) layerSpecs.push(extra);
    }
    if (extra && config.interpolatedPosition === 'last') layerSpecs.push(extra);
    specs.push(layerSpecs);
  }
  return specs;
}

export interface GridAnchorParams {
  /** [G_height, G_width] per feature map. */
  featureMapShapes: readonly (readonly [number, number])[];
  /** (scale, aspect ratio) per anchor, per feature map. */
  boxSpecs: readonly (readonly (readonly [number, number])[])[];
  /** [height, width] multiplier of every anchor size (TF base_anchor_size); default [1, 1]. */
  baseAnchorSize?: readonly [number, number];
  /** [y, x] centre spacing per feature map (TF anchor_strides); default [1/G_h, 1/G_w]. */
  anchorStrides?: readonly (readonly [number, number])[];
  /** [y, x] centre of cell (0, 0) per feature map (TF anchor_offsets); default half the stride. */
  anchorOffsets?: readonly (readonly [number, number])[];
}

/** MultipleGridAnchorGenerator._generate + tile_anchors (im_height = im_width = 1): [count, 4] float32. */
export function multipleGridAnchors(p: GridAnchorParams): Float32Array {
  const { featureMapShapes: shapes, boxSpecs } = p;
  if (shapes.length !== boxSpecs.length) {
    throw new Error(`ssd-anchors: ${shapes.length} feature maps, ${boxSpecs.length} box spec lists`);
  }
  const [baseH, baseW] = p.baseAnchorSize ?? [1, 1];
  const count = shapes.reduce((sum, [gh, gw], k) => sum + gh * gw * boxSpecs[k].length, 0);
  const out = new Float32Array(count * 4);
  let o = 0;
  shapes.forEach(([gh, gw], k) => {
    const stride = p.anchorStrides?.[k] ?? [1 / gh, 1 / gw];
    const offset = p.anchorOffsets?.[k] ?? [0.5 * stride[0], 0.5 * stride[1]];
    const sizes = boxSpecs[k].map(([s, a]) => {
      const r = Math.sqrt(a);
      return { h: (s / r) * baseH, w: s * r * baseW };
    });
    for (let row = 0; row < gh; row++) {
      const cy = row * stride[0] + offset[0];
      for (let col = 0; col < gw; col++) {
        const cx = col * stride[1] + offset[1];
        for (const { h, w } of sizes) {
          out[o++] = cy - 0.5 * h;
          out[o++] = cx - 0.5 * w;
          out[o++] = cy + 0.5 * h;
          out[o++] = cx + 0.5 * w;
        }
      }
    }
  });
  return out;
}

/** An input size: S for a square S × S input, or the height and width of a rectangular one. */
export type SsdInputShape = number | { readonly height: number; readonly width: number };

function heightWidth(shape: SsdInputShape): [number, number] {
  return typeof shape === 'number' ? [shape, shape] : [shape.height, shape.width];
}

/** Number of anchors for an input size: Σ G_k,h · G_k,w · (anchors per cell of layer k). */
export function ssdAnchorCount(shape: SsdInputShape, config: SsdAnchorConfig = FACEAPI_SSD_ANCHOR_CONFIG): number {
  const [h, w] = heightWidth(shape);
  const gh = ssdFeatureMapSizes(h);
  const gw = ssdFeatureMapSizes(w);
  const specs = ssdBoxSpecs(config);
  return gh.reduce((sum, g, k) => sum + g * gw[k] * specs[k].length, 0);
}

/**
 * The TF generator's parameters for face-api's network at input `shape` (see the module comment for
 * the two modes). 'pixel' at 512 × 512 and 'relative' at any size are the generator's plain defaults.
 */
export function faceApiAnchorParams(
  shape: SsdInputShape,
  mode: SsdAnchorMode = 'pixel',
  config: SsdAnchorConfig = FACEAPI_SSD_ANCHOR_CONFIG,
): GridAnchorParams {
  const [H, W] = heightWidth(shape);
  const gridsH = ssdFeatureMapSizes(H);
  const gridsW = ssdFeatureMapSizes(W);
  const featureMapShapes = gridsH.map((gh, k) => [gh, gridsW[k]] as const);
  const boxSpecs = ssdBoxSpecs(config);
  const T0 = FACEAPI_SSD_TRAINED_SIZE;
  if (mode === 'relative' || (H === T0 && W === T0)) return { featureMapShapes, boxSpecs };
  const ref = ssdReceptiveOffsets(T0);
  const hereH = ssdReceptiveOffsets(H);
  const hereW = ssdReceptiveOffsets(W);
  const stride = (k: number) => 16 * 2 ** k;
  const anchorStrides = gridsH.map((_, k) => [stride(k) / H, stride(k) / W] as const);
  // At 512 cell i's anchor centre is (i + ½)·T_k px; keep its distance to the receptive centre.
  const anchorOffsets = gridsH.map(
    (_, k) => [(0.5 * stride(k) + hereH[k] - ref[k]) / H, (0.5 * stride(k) + hereW[k] - ref[k]) / W] as const,
  );
  return { featureMapShapes, boxSpecs, baseAnchorSize: [T0 / H, T0 / W], anchorStrides, anchorOffsets };
}

/**
 * The priors for one input size: [count, 4] float32 as [ymin, xmin, ymax, xmax] in the unit square
 * of the (padded) input, ordered by layer, then (row, column, anchor) — the order of the model's
 * flattened outputs.
 */
export function generateSsdAnchors(
  shape: SsdInputShape,
  mode: SsdAnchorMode = 'pixel',
  config: SsdAnchorConfig = FACEAPI_SSD_ANCHOR_CONFIG,
): Float32Array {
  return multipleGridAnchors(faceApiAnchorParams(shape, mode, config));
}
