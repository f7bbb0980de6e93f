/**
 * The TF anchor-generator port (src/detect/ssd-anchors.ts): it must reproduce face-api's shipped
 * 512 table, follow TF 'same' padding for the grid sizes, and, off 512, keep each anchor's trained
 * pixel geometry; plus the converted graph at other sizes (shapes, anchor table, declared input).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFaceApiSsdOnnx, faceApiSsdMacs } from '../src/convert/faceapi-ssd.js';
import { readFaceApiWeights } from '../src/convert/faceapi-weights.js';
import { faceApiWeightsDir } from '../src/convert/main.js';
import { SSD_NUM_ANCHORS } from '../src/detect/ssd.js';
import {
  FACEAPI_SSD_ANCHOR_CONFIG,
  generateSsdAnchors,
  multipleGridAnchors,
  ssdAnchorCount,
  ssdBoxSpecs,
  ssdFeatureMapSizes,
  ssdReceptiveOffsets,
} from '../src/detect/ssd-anchors.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { onnxInputShape, onnxMetadata } from '../src/runtime/onnx-model-info.js';

const weightsPromise = readFaceApiWeights(join(faceApiWeightsDir(), 'ssd_mobilenetv1_model-weights_manifest.json'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Anchor k of layer `layer` at cell (row, col) as [cy, cx, h, w]. */
function anchorAt(anchors: Float32Array, size: number, layer: number, row: number, col: number, k: number): number[] {
  const grids = ssdFeatureMapSizes(size);
  const per = ssdBoxSpecs().map((s) => s.length);
  let index = 0;
  for (let l = 0; l < layer; l++) index += grids[l] * grids[l] * per[l];
  index += (row * grids[layer] + col) * per[layer] + k;
  const [y0, x0, y1, x1] = anchors.subarray(index * 4, index * 4 + 4);
  return [(y0 + y1) / 2, (x0 + x1) / 2, y1 - y0, x1 - x0];
}

describe('SSD anchor generator', () => {
  it("reproduces face-api's 512 table (Output/extra_dim) in both modes", async () => {
    const shipped = (await weightsPromise).tensors.get('Output/extra_dim');
    expect(shipped?.shape).toEqual([1, SSD_NUM_ANCHORS, 4]);
    const ref = shipped?.data as Float32Array;
    for (const mode of ['pixel', 'relative'] as const) {
      const ours = generateSsdAnchors(512, mode);
      const diff = maxAbsDiff(ours, ref);
      console.log(
        `[anchors] 512 (${mode}): max |Δ| vs face-api's table ${diff.toExponential(2)} over ${ours.length / 4} anchors`,
      );
      expect(diff).toBeLessThan(1e-5);
    }
    // The 2017 TF OD API order matters: the interpolated anchor follows the aspect-ratio-1 anchor.
    const lastOrder = generateSsdAnchors(512, 'relative', {
      ...FACEAPI_SSD_ANCHOR_CONFIG,
      interpolatedPosition: 'last',
    });
    expect(maxAbsDiff(lastOrder, ref)).toBeGreaterThan(0.1);
  });

  it("follows TF 'same' padding: ceil(n/2) per stride-2 layer", () => {
    expect(ssdFeatureMapSizes(512)).toEqual([32, 16, 8, 4, 2, 1]);
    expect(ssdFeatureMapSizes(448)).toEqual([28, 14, 7, 4, 2, 1]);
    expect(ssdFeatureMapSizes(384)).toEqual([24, 12, 6, 3, 2, 1]);
    expect(ssdFeatureMapSizes(320)).toEqual([20, 10, 5, 3, 2, 1]);
    expect(ssdFeatureMapSizes(300)).toEqual([19, 10, 5, 3, 2, 1]);
    expect(ssdFeatureMapSizes(256)).toEqual([16, 8, 4, 2, 1, 1]);
    expect(ssdAnchorCount(512)).toBe(SSD_NUM_ANCHORS);
    expect(ssdAnchorCount(320)).toBe(3 * 400 + 6 * (100 + 25 + 9 + 4 + 1));
    expect(generateSsdAnchors(300).length).toBe(ssdAnchorCount(300) * 4);
    // Receptive-field centre of cell 0 per head: 2^k − 1 when every stride-2 conv sees an even input.
    expect(ssdReceptiveOffsets(512)).toEqual([15, 31, 63, 127, 255, 511]);
    // 384: the 3 → 2 layer pads 1 on top (odd input), which moves the two coarsest heads' centres by −128 px.
    expect(ssdReceptiveOffsets(384)).toEqual([15, 31, 63, 127, 127, 383]);
  });

  it('relative mode is the plain TF default for the new grids; pixel mode keeps 512-px geometry', () => {
    const S = 320;
    const rel = generateSsdAnchors(S, 'relative');
    const pix = generateSsdAnchors(S, 'pixel');
    const at512 = generateSsdAnchors(512);
    // relative: cell centres (i + ½)/G, sizes as at 512 in unit-square terms.
    const [cy, cx, h, w] = anchorAt(rel, S, 1, 2, 3, 0);
    expect(cy).toBeCloseTo(2.5 / 10, 6);
    expect(cx).toBeCloseTo(3.5 / 10, 6);
    expect(h).toBeCloseTo(anchorAt(at512, 512, 1, 0, 0, 0)[2], 6);
    expect(w).toBeCloseTo(0.35, 6);
    // pixel: the same anchor, measured in input pixels, is as large as at 512 and sits at the same
    // place relative to its cell (grids 20 / 10 / 5 are exact multiples here).
    for (const layer of [0, 1, 2]) {
      for (const k of [0, 1, 2]) {
        const p = anchorAt(pix, S, layer, 1, 2, k).map((v) => v * S);
        const q = anchorAt(at512, 512, layer, 1, 2, k).map((v) => v * 512);
        for (let j = 0; j < 4; j++) expect(p[j]).toBeCloseTo(q[j], 3);
      }
    }
    // Generator defaults = explicit TF defaults (stride 1/G, offset half a stride, base size 1).
    const grids = ssdFeatureMapSizes(S);
    const explicit = multipleGridAnchors({
      featureMapShapes: grids.map((g) => [g, g] as const),
      boxSpecs: ssdBoxSpecs(),
      baseAnchorSize: [1, 1],
      anchorStrides: grids.map((g) => [1 / g, 1 / g] as const),
      anchorOffsets: grids.map((g) => [0.5 / g, 0.5 / g] as const),
    });
    expect(maxAbsDiff(explicit, rel)).toBe(0);
  });

  it('builds runnable graphs with symbolic H × W: square at the nominal size with its own table, and rectangles', async () => {
    const weights = (await weightsPromise).tensors;
    for (const size of [320, 300]) {
      const model = buildFaceApiSsdOnnx(weights, 'test', size);
      expect(onnxInputShape(model, 'input')).toEqual(['N', 3, 'H', 'W']);
      expect(onnxInputShape(model, 'nope')).toBeNull();
      expect(onnxMetadata(model)['ferkit.ssd.input_size']).toBe(String(size));
      const session = await nodeRuntime.createSession(model, `ssd-${size}`, { threads: 1 });
      for (const [h, w] of [
        [size, size],
        [224, size],
        [size, 192],
      ]) {
        const out = await session.run({
          input: { data: new Float32Array(3 * h * w).fill(128), dims: [1, 3, h, w] },
        });
        const n = ssdAnchorCount({ height: h, width: w });
        expect(out.boxes.dims).toEqual([1, n, 4]);
        expect(out.scores.dims).toEqual([1, n]);
        expect(out.anchors.dims).toEqual([ssdAnchorCount(size), 4]);
        expect(maxAbsDiff(out.anchors.data, generateSsdAnchors(size))).toBe(0);
      }
      await session.dispose();
    }
    expect(onnxInputShape(new Uint8Array([1, 2, 3]), 'input')).toBeNull();
    expect(onnxMetadata(new Uint8Array([1, 2, 3]))).toEqual({});
  });

  it("rectangles are separable: H × W anchors pair the square-H table's rows with the square-W table's columns", () => {
    for (const [H, W] of [
      [224, 320],
      [320, 192],
      [288, 512],
    ]) {
      const rect = generateSsdAnchors({ height: H, width: W });
      const tall = generateSsdAnchors(H);
      const wide = generateSsdAnchors(W);
      const gh = ssdFeatureMapSizes(H);
      const gw = ssdFeatureMapSizes(W);
      const perCell = ssdBoxSpecs().map((l) => l.length);
      let r = 0;
      let t = 0;
      let q = 0;
      for (let k = 0; k < gh.length; k++) {
        for (let row = 0; row < gh[k]; row++)
          for (let col = 0; col < gw[k]; col++)
            for (let a = 0; a < perCell[k]; a++) {
              // y depends on the row only, x on the column only: column 0 of the tall table, row 0 of the wide one.
              const ti = t + row * gh[k] * perCell[k] * 4 + a * 4;
              const wi = q + (col * perCell[k] + a) * 4;
              // y from the square-H table (ymin, ymax), x from the square-W table (xmin, xmax).
              expect(rect[r]).toBeCloseTo(tall[ti], 6);
              expect(rect[r + 2]).toBeCloseTo(tall[ti + 2], 6);
              expect(rect[r + 1]).toBeCloseTo(wide[wi + 1], 6);
              expect(rect[r + 3]).toBeCloseTo(wide[wi + 3], 6);
              r += 4;
            }
        t += gh[k] * gh[k] * perCell[k] * 4;
        q += gw[k] * gw[k] * perCell[k] * 4;
      }
      expect(r).toBe(rect.length);
    }
  });

  it('counts multiply-adds: 512 ≈ 3.1 G, shrinking about with the input area', () => {
    const m512 = faceApiSsdMacs(512);
    expect(m512 / 1e9).toBeGreaterThan(3.0);
    expect(m512 / 1e9).toBeLessThan(3.3);
    expect(faceApiSsdMacs(256) / m512).toBeGreaterThan(0.2);
    expect(faceApiSsdMacs(256) / m512).toBeLessThan(0.3);
  });
});
