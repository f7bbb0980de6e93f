/**
 * dlib's `shape_predictor` (dlib/image_processing/shape_predictor.h) read from its serialized bytes
 * into flat typed arrays: one array per kind of value per cascade, no object per tree or node, so
 * the 100 MB 68-point model parses in a fraction of a second and predicts without pointer chasing.
 *
 * The stream (deserialize(shape_predictor&)): int version (must be 1); matrix<float,0,1>
 * initial_shape; vector<vector<regression_tree>> forests, a tree being vector<split_feature> splits
 * (unsigned long idx1, unsigned long idx2, float thresh) then vector<matrix<float,0,1>> leaf_values;
 * vector<vector<unsigned long>> anchor_idx; vector<vector<vector<float,2>>> deltas (x then y).
 * The reader also checks what dlib's predictor silently requires (its `requires` clauses): every
 * leaf as long as the shape, leaves = splits + 1, split indices inside the cascade's feature pixels,
 * anchors inside the shape, and nothing left over at the end of the file.
 */
import { DlibReader } from './dlib-serialize.js';

export interface DlibCascade {
  readonly numTrees: number;
  /** Tree t's splits are [splitStart[t], splitStart[t + 1]) in idx1 / idx2 / thresh. */
  readonly splitStart: Uint32Array;
  readonly idx1: Uint32Array;
  readonly idx2: Uint32Array;
  readonly thresh: Float32Array;
  /** Tree t's leaves are rows [leafStart[t], leafStart[t + 1]) of the model's `leaves`. */
  readonly leafStart: Uint32Array;
  /** Per feature pixel: the shape point it is anchored to and its offset (dx, dy) in the mean shape's frame. */
  readonly anchorIdx: Uint32Array;
  readonly deltas: Float32Array;
}

export interface DlibShapeModel {
  /** Names the file the model came from. */
  readonly source: string;
  readonly numParts: number;
  /** The mean shape in box-normalised coordinates (0..1 across the box), x0, y0, x1, y1, … */
  readonly initialShape: Float32Array;
  readonly cascades: readonly DlibCascade[];
  /** Every tree's leaves, cascade after cascade: one row of 2·numParts floats (a shape delta) each. */
  readonly leaves: Float32Array;
}

/** Sanity bound on counts read from the file, so a corrupt size cannot ask for gigabytes. */
const MAX_COUNT = 1 << 28;

function count(r: DlibReader, what: string): number {
  const at = r.pos;
  const n = r.unsigned(what);
  if (n > MAX_COUNT || n > r.bytes.length - r.pos) r.fail(`${what} (implausible count ${n})`, at);
  return n;
}

/** Parses a serialized dlib shape_predictor; malformed or truncated bytes are E_MODEL naming `source`. */
export function parseDlibShapePredictor(bytes: Uint8Array, source: string): DlibShapeModel {
  const r = new DlibReader(bytes, source);
  const version = r.signed('version');
  if (version !== 1) r.fail(`version (found ${version}, expected 1)`, 0);
  const initialShape = r.floatColumn('initial_shape');
  const shapeLength = initialShape.length;
  if (shapeLength === 0 || shapeLength % 2 !== 0) r.fail(`initial_shape (odd or empty length ${shapeLength})`);
  const numParts = shapeLength / 2;

  const numCascades = count(r, 'forests');
  const forests: Omit<DlibCascade, 'anchorIdx' | 'deltas'>[] = [];
  // Sized for dlib's 68-point model (15 cascades × 500 trees of depth 4); grown if a model needs more.
  // (Never more than the bytes left could hold: a serialized float takes at least 4 bytes.)
  let leaves = new Float32Array(Math.min(numCascades * 500 * 16 * shapeLength, (bytes.length - r.pos) >> 2));
  let leafRows = 0;
  for (let c = 0; c < numCascades; c++) {
    const numTrees = count(r, `forest ${c}`);
    const splitStart = new Uint32Array(numTrees + 1);
    const leafStart = new Uint32Array(numTrees + 1);
    leafStart[0] = leafRows;
    let idx1 = new Uint32Array(numTrees * 15);
    let idx2 = new Uint32Array(numTrees * 15);
    let thresh = new Float32Array(numTrees * 15);
    let splits = 0;
    for (let t = 0; t < numTrees; t++) {
      const what = `cascade ${c} tree ${t}`;
      const numSplits = count(r, `${what} splits`);
      if (splits + numSplits > idx1.length) {
        const grow = (a: Uint32Array) => {
          const b = new Uint32Array(Math.max(2 * a.length, splits + numSplits));
          b.set(a);
          return b;
        };
        idx1 = grow(idx1);
        idx2 = grow(idx2);
        const th = new Float32Array(idx1.length);
        th.set(thresh);
        thresh = th;
      }
      for (let s = 0; s < numSplits; s++) {
        idx1[splits] = r.unsigned(`${what} split ${s} idx1`);
        idx2[splits] = r.unsigned(`${what} split ${s} idx2`);
        thresh[splits] = r.float(`${what} split ${s} thresh`);
        splits++;
      }
      const leafAt = r.pos;
      const numLeaves = count(r, `${what} leaves`);
      if (numLeaves !== numSplits + 1) r.fail(`${what} (${numLeaves} leaves for ${numSplits} splits)`, leafAt);
      if ((leafRows + numLeaves) * shapeLength > leaves.length) {
        const grown = new Float32Array(Math.max(2 * leaves.length, (leafRows + numLeaves) * shapeLength));
        grown.set(leaves);
        leaves = grown;
      }
      for (let l = 0; l < numLeaves; l++) {
        r.floatColumn(what, leaves, leafRows * shapeLength, shapeLength);
        leafRows++;
      }
      splitStart[t + 1] = splits;
      leafStart[t + 1] = leafRows;
    }
    forests.push({
      numTrees,
      splitStart,
      leafStart,
      idx1: idx1.subarray(0, splits),
      idx2: idx2.subarray(0, splits),
      thresh: thresh.subarray(0, splits),
    });
  }

  const anchorAt = r.pos;
  if (count(r, 'anchor_idx') !== numCascades) r.fail(`anchor_idx (not one list per cascade)`, anchorAt);
  const anchors: Uint32Array[] = [];
  for (let c = 0; c < numCascades; c++) {
    const n = count(r, `anchor_idx ${c}`);
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      a[i] = r.unsigned(`anchor_idx ${c}`);
      if (a[i] >= numParts) r.fail(`anchor_idx ${c}[${i}] (${a[i]} is not one of the ${numParts} parts)`, at);
    }
    anchors.push(a);
  }
  const deltaAt = r.pos;
  if (count(r, 'deltas') !== numCascades) r.fail(`deltas (not one list per cascade)`, deltaAt);
  const cascades: DlibCascade[] = [];
  for (let c = 0; c < numCascades; c++) {
    const at = r.pos;
    const n = count(r, `deltas ${c}`);
    if (n !== anchors[c].length) r.fail(`deltas ${c} (${n} deltas for ${anchors[c].length} anchors)`, at);
    const d = new Float32Array(2 * n);
    for (let i = 0; i < 2 * n; i++) d[i] = r.float(`deltas ${c}`);
    const f = forests[c];
    for (let s = 0; s < f.idx1.length; s++) {
      if (f.idx1[s] >= n || f.idx2[s] >= n) r.fail(`cascade ${c}: split ${s} uses a feature pixel beyond its ${n}`, at);
    }
    cascades.push({ ...f, anchorIdx: anchors[c], deltas: d });
  }
  if (!r.done) r.fail(`the end of the file (${bytes.length - r.pos} bytes left over)`);
  return { source, numParts, initialShape, cascades, leaves: leaves.subarray(0, leafRows * shapeLength) };
}
