/**
 * Reads face-api's tfjs weight files (`<model>-weights_manifest.json` + `<model>.bin`) into named
 * Float32Array tensors, decoding exactly as tfjs' `io.decodeWeights` does.
 *
 * Manifest format (tfjs "weights manifest"): an array of groups, each `{ paths, weights }`. The
 * group's `paths` are shards that concatenate into one buffer; `weights` are laid out back to back
 * in that buffer, each `{ name, shape, dtype, quantization? }`. A quantized entry stores
 * `quantization.dtype` elements (uint8/uint16: value = q·scale + min; float16: IEEE half) instead of
 * `dtype` ones. face-api ships every model uint8-quantized, so this decoding is on the hot path of
 * parity: it must be the same affine map tfjs applies, in the same (float64, then float32) order.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FerkitError } from '../errors.js';

export interface WeightTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Always float32 here; int32 entries (face-api's unused TF slice constants) are widened. */
  readonly data: Float32Array;
  /**
   * For float weights stored quantized (uint8/uint16 affine, as all of face-api's are): the step of
   * that grid (the manifest's scale). An int8 build can use it to represent them exactly (./qdq.ts).
   */
  readonly quantStep?: number;
}

export type WeightMap = ReadonlyMap<string, WeightTensor>;

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

export interface FaceApiWeights {
  readonly tensors: WeightMap;
  /** sha256 over the manifest and every shard, in order: identifies the source of a conversion. */
  readonly sha256: string;
  /** The files read (manifest first). */
  readonly files: readonly string[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };

/** IEEE 754 half → float, for tfjs' float16 quantization. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function isManifest(json: unknown): json is ManifestGroup[] {
  return (
    Array.isArray(json) &&
    json.every(
      (g) =>
        g &&
        Array.isArray(g.paths) &&
        Array.isArray(g.weights) &&
        g.weights.every(
          (w: ManifestEntry) => typeof w?.name === 'string' && Array.isArray(w.shape) && typeof w.dtype === 'string',
        ),
    )
  );
}

/**
 * Decodes one group's concatenated shard bytes. Pure; `source` names the shard file(s) in errors.
 * Throws FerkitError('E_MODEL') when the bytes do not match the manifest (truncated or extra data).
 */
export function decodeWeightGroup(
  weights: readonly ManifestEntry[],
  buffer: Uint8Array,
  source: string,
): WeightTensor[] {
  const out: WeightTensor[] = [];
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let offset = 0;
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const q = w.quantization;
    const storedType = q ? q.dtype : w.dtype;
    const bytesPer = BYTES[storedType];
    if (bytesPer === undefined || (w.dtype !== 'float32' && w.dtype !== 'int32')) {
      throw new FerkitError('E_MODEL', `${source}: weight ${w.name} has unsupported dtype ${w.dtype}/${storedType}`);
    }
    const byteLength = size * bytesPer;
    if (offset + byteLength > buffer.length) {
      throw new FerkitError(
        'E_MODEL',
        `${source}: truncated weights file (${buffer.length} bytes; weight ${w.name} needs bytes ${offset}..${offset + byteLength})`,
      );
    }
    const data = new Float32Array(size);
    if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < size; i++) {
        const v = q.dtype === 'uint8' ? buffer[offset + i] : view.getUint16(offset + 2 * i, true);
        // tfjs: values[i] = v * scale + min (float64 arithmetic, stored to float32; int32 rounds).
        data[i] = w.dtype === 'int32' ? Math.round(v * scale + min) : v * scale + min;
      }
    } else if (q && q.dtype === 'float16') {
      for (let i = 0; i < size; i++) data[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
    } else if (q) {
      throw new FerkitError('E_MODEL', `${source}: weight ${w.name} has unsupported quantization ${q.dtype}`);
    } else if (w.dtype === 'float32') {
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    } else {
      for (let i = 0; i < size; i++) data[i] = view.getInt32(offset + 4 * i, true);
    }
    const quantStep = q && w.dtype === 'float32' && (q.dtype === 'uint8' || q.dtype === 'uint16') ? q.scale : undefined;
    out.push({ name: w.name, shape: [...w.shape], data, ...(quantStep ? { quantStep } : {}) });
    offset += byteLength;
  }
  if (offset !== buffer.length) {
    throw new FerkitError(
      'E_MODEL',
      `${source}: weights file has ${buffer.length} bytes, manifest describes ${offset}`,
    );
  }
  return out;
}

interface RawWeights {
  groups: { group: ManifestGroup; buffer: Uint8Array; source: string }[];
  sha256: string;
  files: string[];
}

/** Reads the manifest and every shard, hashing them; no decoding. */
async function readRaw(manifestPath: string): Promise<RawWeights> {
  const hash = createHash('sha256');
  const files = [manifestPath];
  let manifestBytes: Buffer;
  try {
    manifestBytes = await readFile(manifestPath);
  } catch (e) {
    throw new FerkitError('E_MODEL', `${manifestPath}: face-api weights manifest is missing or unreadable`, {
      cause: e,
    });
  }
  hash.update(manifestBytes);
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch (e) {
    throw new FerkitError('E_MODEL', `${manifestPath}: not a tfjs weights manifest (invalid JSON)`, { cause: e });
  }
  // A tfjs graph model's model.json carries its weights manifest inside (`weightsManifest`).
  if (manifest && typeof manifest === 'object' && 'weightsManifest' in manifest) manifest = manifest.weightsManifest;
  if (!isManifest(manifest)) throw new FerkitError('E_MODEL', `${manifestPath}: not a tfjs weights manifest`);
  const groups: RawWeights['groups'] = [];
  for (const group of manifest) {
    const shards: Buffer[] = [];
    for (const p of group.paths) {
      const shardPath = join(dirname(manifestPath), p);
      files.push(shardPath);
      try {
        shards.push(await readFile(shardPath));
      } catch (e) {
        throw new FerkitError('E_MODEL', `${shardPath}: face-api weights file is missing or unreadable`, { cause: e });
      }
      hash.update(shards[shards.length - 1]);
    }
    const source =
      group.paths.length === 1 ? join(dirname(manifestPath), group.paths[0]) : `${basename(manifestPath)} shards`;
    groups.push({ group, buffer: new Uint8Array(Buffer.concat(shards)), source });
  }
  return { groups, sha256: hash.digest('hex'), files };
}

/** Reads a face-api weights manifest and its shards. Missing or corrupt files → FerkitError('E_MODEL') naming the file. */
export async function readFaceApiWeights(manifestPath: string): Promise<FaceApiWeights> {
  const raw = await readRaw(manifestPath);
  const tensors = new Map<string, WeightTensor>();
  for (const { group, buffer, source } of raw.groups) {
    for (const t of decodeWeightGroup(group.weights, buffer, source)) tensors.set(t.name, t);
  }
  return { tensors, sha256: raw.sha256, files: raw.files };
}

/** The source hash readFaceApiWeights would report, without decoding (for up-to-date checks). */
export async function hashFaceApiWeights(manifestPath: string): Promise<string> {
  return (await readRaw(manifestPath)).sha256;
}

/**
 * Looks a weight up by name and checks its shape; converters use it so that a weights file that
 * parses but belongs to another network fails loudly instead of producing a wrong graph.
 */
export function takeWeight(
  weights: WeightMap,
  name: string,
  shape: readonly number[],
  source = 'face-api weights',
): Float32Array {
  const t = weights.get(name);
  if (!t) throw new FerkitError('E_MODEL', `${source}: weight ${name} is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new FerkitError('E_MODEL', `${source}: weight ${name} has shape [${t.shape}], expected [${shape}]`);
  }
  return t.data;
}
