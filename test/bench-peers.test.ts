/** `ferkit bench peers`: face-api's expression net and Human's emotion model as peers, in FER2013 order. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignFace } from '../src/align/align.js';
import { mulberry32 } from '../src/bench/corruption-pixels.js';
import {
  FACEAPI_LABELS,
  FACEAPI_TO_FER,
  faceApiToFer,
  loadFaceApiExpression,
  loadHumanEmotion,
  type PeerClassifier,
} from '../src/bench/peer-models.js';
import { listExpressionModels, loadFerkitPeer } from '../src/bench/peers.js';
import { demoPhotoPaths } from '../src/bench/photos.js';
import { loadFer2013 } from '../src/data/fer2013.js';
import { rgbToGray } from '../src/image/ops.js';
import { createAnalyzer } from '../src/node/analyzer.js';
import { EXPRESSION_LABELS } from '../src/types.js';
import { cli, expectSection, ferkit, root, staleBenchmarksFile } from './helpers/bench-cli.js';

const FER = resolve(process.env.FERKIT_DATA ?? resolve(root, '../shared/data'), 'fer2013/publictest.bin');
const HAPPY = EXPRESSION_LABELS.indexOf('happy');
const argmax = (p: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i;
  return b;
};

/** 8 smooth random 48×48 crops (no data set needed). */
function syntheticCrops(n = 8): Uint8Array[] {
  const rand = mulberry32(11);
  return Array.from({ length: n }, (_, k) => {
    const c = new Uint8Array(48 * 48);
    const fx = 0.05 + 0.2 * rand();
    const fy = 0.05 + 0.2 * rand();
    for (let y = 0; y < 48; y++)
      for (let x = 0; x < 48; x++) c[y * 48 + x] = Math.round(127.5 + 120 * Math.sin(fx * x + fy * y + k));
    return c;
  });
}

let dir: string;
const peers: PeerClassifier[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferkit-bench-peers-'));
  peers.push(await loadFaceApiExpression('wasm'), await loadHumanEmotion('wasm'));
  const models = await listExpressionModels();
  if (models.length) peers.push(await loadFerkitPeer(models[0], { threads: 1 }));
}, 180_000);

afterAll(async () => {
  for (const p of peers) await p.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('face-api label order', () => {
  it('maps neutral, happy, sad, angry, fearful, disgusted, surprised to FER2013 order', () => {
    expect(FACEAPI_LABELS).toEqual(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
    const fer = {
      angry: 'angry',
      disgust: 'disgusted',
      fear: 'fearful',
      happy: 'happy',
      sad: 'sad',
      surprise: 'surprised',
      neutral: 'neutral',
    };
    for (const [i, label] of EXPRESSION_LABELS.entries()) expect(FACEAPI_LABELS[FACEAPI_TO_FER[i]]).toBe(fer[label]);
    // face-api vector with a distinct value per label: 0.01·(index+1)
    const p = FACEAPI_LABELS.map((_, i) => 0.01 * (i + 1));
    expect(Array.from(faceApiToFer(p)).map((v) => Math.round(v * 100))).toEqual([4, 6, 5, 2, 3, 7, 1]);
  });
});

describe('peers on a tiny subset', () => {
  it('every peer returns probability vectors in FER2013 order that sum to 1', async () => {
    const crops = existsSync(FER) ? (await loadFer2013(FER, { limit: 10 })).images : syntheticCrops();
    for (const peer of peers) {
      const probs = await peer.probabilities(crops);
      expect(probs, peer.name).toHaveLength(crops.length);
      for (const p of probs) {
        expect(p).toHaveLength(EXPRESSION_LABELS.length);
        for (const v of p) expect(v >= 0 && v <= 1, `${peer.name}: ${Array.from(p)}`).toBe(true);
        expect(
          p.reduce((a, b) => a + b, 0),
          peer.name,
        ).toBeCloseTo(1, 4);
      }
      // batch of one equals the batched result
      const one = await peer.probabilities([crops[1]]);
      for (let i = 0; i < 7; i++) expect(one[0][i], peer.name).toBeCloseTo(probs[1][i], 4);
      expect(await peer.probabilities([])).toEqual([]);
    }
  }, 120_000);

  it("face-api's net calls a clearly smiling face (ferkit-aligned, from face-api's demo photo) happy", async () => {
    const analyzer = await createAnalyzer({ threads: 1 });
    let crops: Uint8Array[];
    let happiness: number[];
    try {
      const photo = demoPhotoPaths()[2]; // sample3.jpg: three women, two of them smiling broadly
      const image = await analyzer.decode(photo);
      const result = await analyzer.analyzeImage(image);
      expect(result.faces.length).toBeGreaterThanOrEqual(2);
      const grey = rgbToGray(image);
      crops = result.faces.map((f) => alignFace(grey, f.landmarks));
      happiness = result.faces.map((f) => f.expression.probabilities.happy);
    } finally {
      await analyzer.dispose();
    }
    const smiling = crops[argmax(happiness)];
    const faceapi = peers[0];
    const [p] = await faceapi.probabilities([smiling]);
    expect(
      EXPRESSION_LABELS[argmax(p)],
      Array.from(p)
        .map((v) => v.toFixed(3))
        .join(' '),
    ).toBe('happy');
    expect(p[HAPPY]).toBeGreaterThan(0.5);
  }, 180_000);

  it.skipIf(!existsSync(FER))(
    'on FER2013 PublicTest happy faces, face-api and Human mostly say happy',
    async () => {
      const { images, labels } = await loadFer2013(FER, { limit: 300 });
      const happy = images.filter((_, i) => labels[i] === HAPPY).slice(0, 30);
      for (const peer of peers.slice(0, 2)) {
        const probs = await peer.probabilities(happy);
        const hits = probs.filter((p) => argmax(p) === HAPPY).length;
        expect(hits / happy.length, peer.name).toBeGreaterThan(0.6);
      }
    },
    120_000,
  );
});

describe.skipIf(!existsSync(cli))('ferkit bench peers (built CLI)', () => {
  it('--json --write-benchmarks: one row per model with consistent metrics, and the peers section', async () => {
    const bin = join(dir, 'tiny.bin');
    const crops = syntheticCrops(14);
    const bytes = new Uint8Array(crops.length * 2305);
    crops.forEach((c, i) => {
      bytes[i * 2305] = i % 7;
      bytes.set(c, i * 2305 + 1);
    });
    await writeFile(bin, bytes);
    const file = await staleBenchmarksFile(dir, 'peers');
    const args = [
      'bench',
      'peers',
      '--data',
      bin,
      '--limit',
      '12',
      '--single',
      '2',
      '--batch',
      '5',
      '--threads',
      '1',
      '--json',
      '--out',
      join(dir, 'out'),
      '--write-benchmarks',
      '--benchmarks-file',
      file,
    ];
    const r = await ferkit(args, 300_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`updated the peers section of ${file}`);
    const section = await expectSection(
      file,
      'peers',
      '## ferkit and other open expression models on the same crops',
      args,
    );
    expect(section).toContain('| face-api expression |');
    const j = JSON.parse(r.stdout);
    expect(j.n).toBe(12);
    expect(j.labels).toEqual([...EXPRESSION_LABELS]);
    const names = j.results.map((x: { name: string }) => x.name);
    expect(names.slice(-2)).toEqual(['face-api expression', 'Human emotion']);
    expect(names.length).toBe(2 + (await listExpressionModels()).length);
    for (const x of j.results) {
      expect(x.n).toBe(12);
      const flat: number[] = x.confusion.flat();
      expect(flat.reduce((a, b) => a + b, 0)).toBe(12);
      const trace = x.confusion.reduce((t: number, row: number[], i: number) => t + row[i], 0);
      expect(x.accuracy).toBeCloseTo(trace / 12, 12);
      expect(x.macroF1).toBeCloseTo(x.f1.reduce((a: number, b: number) => a + b, 0) / 7, 12);
      expect(x.ece).toBeGreaterThanOrEqual(0);
      expect(x.msPerImage).toBeGreaterThan(0);
      expect(x.msPerImageSingle).toBeGreaterThan(0);
      expect(x.singleCalls).toBe(2);
      expect(typeof x.preprocessing).toBe('string');
    }
    expect(j.notes.join(' ')).toMatch(/face-api.*FER2013/);
    expect(existsSync(j.files.markdown) && existsSync(j.files.csv)).toBe(true);
  }, 300_000);
});
