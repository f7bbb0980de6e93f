/**
 * `ferkit bench peers`: the same FER2013 crops through ferkit's expression models (each with the
 * test-time augmentation it uses at run time) and the open peers of ./peer-models.ts (face-api's
 * expression net, Human's emotion model): accuracy, macro-F1, ECE, NLL and milliseconds per image.
 *
 * Timing covers the model call and the preprocessing it needs (tensor building, resizing), never
 * data loading or metrics: `msPerImage` is the batched accuracy pass (batches of `batch` crops)
 * divided by the number of crops; `msPerImageSingle` the mean of single-crop calls after warm-up.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarize } from '../eval/metrics.js';
import { type ExpressionModelCard, parseExpressionCard } from '../expression/card.js';
import { ExpressionClassifier, type TestTimeAugmentation } from '../expression/classifier.js';
import { loadExpressionModel } from '../node/expression-model.js';
import { bundledModelDir } from '../node/paths.js';
import { nodeRuntime } from '../node/runtime.js';
import { EXPRESSION_LABELS } from '../types.js';
import { loadFaceApiExpression, loadHumanEmotion, type PeerClassifier, type TfBackend } from './peer-models.js';

/** Paths of the expression models in a folder (default: ferkit's models/): each .onnx with a valid card beside it. */
export async function listExpressionModels(dir: string = bundledModelDir()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.onnx')).sort()) {
    const card = join(dir, name.replace(/\.onnx$/, '.json'));
    try {
      parseExpressionCard(JSON.parse(await readFile(card, 'utf8')), card);
      out.push(join(dir, name));
    } catch {
      // not an expression model (or no card): skip
    }
  }
  return out;
}

/** A ferkit model as a peer, with the TTA its card says it runs with (unless told otherwise). */
export async function loadFerkitPeer(
  nameOrPath: string,
  options: { tta?: TestTimeAugmentation; threads?: number } = {},
): Promise<PeerClassifier> {
  const model = await loadExpressionModel(nameOrPath);
  const classifier = await ExpressionClassifier.create(nodeRuntime, model.bytes, model.card, model.path, {
    tta: options.tta,
    threads: options.threads,
    maxBatch: 256,
  });
  const t = classifier.tta === 'flip' ? model.card.calibration.temperature : model.card.calibration.temperatureNoTta;
  const ort = (await import('onnxruntime-node')) as { env?: { versions?: { common?: string } } };
  const version = ort.env?.versions?.common;
  return {
    name: model.card.name,
    source: `ferkit models/${model.card.file} (${model.card.family}, ${(model.card.parameters / 1e6).toFixed(2)} M params)`,
    engine: `onnxruntime-node${version ? ` ${version}` : ''} cpu, ${options.threads ? `${options.threads} threads` : 'all cores'}`,
    tta: classifier.tta,
    preprocessing: `48×48 grey 0..255 (normalisation in the graph); ${classifier.tta === 'flip' ? 'mean logits of crop + mirror, ' : ''}softmax at T=${t.toFixed(3)}`,
    note: selectionNote(model.card),
    probabilities: (crops) => classifier.probabilities(crops),
    dispose: () => classifier.dispose(),
  };
}

/** What the card says the model was selected and calibrated on, as a caveat for PublicTest numbers. */
function selectionNote(card: ExpressionModelCard): string {
  const data = (card.training as { data?: { selection?: string } } | undefined)?.data;
  const selection = data?.selection ?? `${card.metrics?.split ?? 'unknown'} (card metrics)`;
  const calibration = card.calibration.method ?? 'temperature scaling';
  return `checkpoint selected on ${selection}; calibration: ${calibration}${/publictest/i.test(`${selection} ${calibration}`) ? '; so its PublicTest numbers, ECE above all, are optimistic' : ''}`;
}

export interface PeerResult
  extends Pick<PeerClassifier, 'name' | 'source' | 'engine' | 'tta' | 'preprocessing' | 'note'> {
  n: number;
  accuracy: number;
  macroF1: number;
  ece: number;
  nll: number;
  /** Per-class F1 in EXPRESSION_LABELS order. */
  f1: number[];
  confusion: number[][];
  msPerImage: number;
  msPerImageSingle: number;
  batch: number;
  singleCalls: number;
}

export interface PeersReport {
  data: string;
  n: number;
  labels: readonly string[];
  results: PeerResult[];
  notes: string[];
  seconds: number;
}

export interface PeerSpec {
  /** Label shown while loading. */
  name: string;
  load(): Promise<PeerClassifier>;
}

/** The default line-up: every ferkit model in models/, then face-api's expression net and Human's emotion model. */
export async function defaultPeers(
  options: { backend?: TfBackend; threads?: number; models?: string[] } = {},
): Promise<PeerSpec[]> {
  const models = options.models ?? (await listExpressionModels());
  return [
    ...models.map((m) => ({ name: m, load: () => loadFerkitPeer(m, { threads: options.threads }) })),
    { name: 'face-api expression', load: () => loadFaceApiExpression(options.backend) },
    { name: 'Human emotion', load: () => loadHumanEmotion(options.backend) },
  ];
}

export const PEERS_NOTES = [
  'All models see the same FER2013 48×48 grey crops; each applies its own library’s preprocessing to them.',
  'face-api’s expression model was trained on undisclosed public data sets and web images that may include FER2013-derived faces, so its FER2013 numbers may be optimistic.',
  'Human’s emotion model (oarriaga mini-Xception) was trained on FER2013 Training with PublicTest + PrivateTest as its validation set (early stopping, checkpoint choice); ferkit’s models chose checkpoints and temperatures on PublicTest. So no model here has PublicTest entirely unseen.',
  'ECE uses 15 equal-width confidence bins; ms per image covers preprocessing + model, not data loading.',
];

/** Run every peer on the crops, one after another (each loaded, measured, disposed). */
export async function runPeers(options: {
  images: readonly Uint8Array[];
  labels: ArrayLike<number>;
  peers: readonly PeerSpec[];
  data?: string;
  batch?: number;
  /** Single-crop calls timed per peer after 3 warm-ups (default 100, at most n). */
  singleCalls?: number;
  /** Crops done over all peers so far, of n × peers. */
  onProgress?: (peer: string, done: number, total: number) => void;
}): Promise<PeersReport> {
  const t0 = performance.now();
  const { images, labels } = options;
  const n = images.length;
  if (n === 0) throw new RangeError('runPeers: no images');
  const batch = options.batch ?? 64;
  const singles = Math.min(n, options.singleCalls ?? 100);
  const results: PeerResult[] = [];
  const total = n * options.peers.length;
  for (const [k, spec] of options.peers.entries()) {
    options.onProgress?.(spec.name, k * n, total);
    const peer = await spec.load();
    try {
      await peer.probabilities(images.slice(0, Math.min(batch, n))); // warm-up at batch size
      const probs: Float32Array[] = [];
      let ms = 0;
      for (let i = 0; i < n; i += batch) {
        const chunk = images.slice(i, i + batch);
        const t = performance.now();
        const p = await peer.probabilities(chunk);
        ms += performance.now() - t;
        if (p.length !== chunk.length) throw new Error(`${peer.name}: ${p.length} results for ${chunk.length} crops`);
        probs.push(...p);
        options.onProgress?.(peer.name, k * n + probs.length, total);
      }
      for (let i = 0; i < Math.min(3, n); i++) await peer.probabilities([images[i]]);
      let singleMs = 0;
      for (let i = 0; i < singles; i++) {
        const t = performance.now();
        await peer.probabilities([images[i]]);
        singleMs += performance.now() - t;
      }
      const s = summarize(probs, labels);
      results.push({
        name: peer.name,
        source: peer.source,
        engine: peer.engine,
        tta: peer.tta,
        preprocessing: peer.preprocessing,
        note: peer.note,
        n,
        accuracy: s.accuracy,
        macroF1: s.macroF1,
        ece: s.ece,
        nll: s.nll,
        f1: EXPRESSION_LABELS.map((l) => s.perClass[l].f1),
        confusion: s.confusion,
        msPerImage: ms / n,
        msPerImageSingle: singles ? singleMs / singles : Number.NaN,
        batch,
        singleCalls: singles,
      });
    } finally {
      await peer.dispose();
    }
  }
  return {
    data: options.data ?? '',
    n,
    labels: EXPRESSION_LABELS,
    results,
    notes: PEERS_NOTES,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------ output

const pct = (x: number) => (100 * x).toFixed(1);
const f3 = (x: number) => x.toFixed(3);
const ms = (x: number) => (Number.isFinite(x) ? (x < 1 ? x.toFixed(3) : x.toFixed(2)) : '–');

export function peersMarkdown(r: PeersReport): string {
  const lines: string[] = [];
  lines.push(`Data: ${r.data}, n = ${r.n}.`);
  lines.push('');
  lines.push('| model | engine | TTA | accuracy % | macro-F1 | ECE | NLL | ms/image (batch) | ms/image (single) |');
  lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const x of r.results) {
    lines.push(
      `| ${x.name} | ${x.engine} | ${x.tta} | ${pct(x.accuracy)} | ${f3(x.macroF1)} | ${f3(x.ece)} | ${f3(x.nll)} | ${ms(x.msPerImage)} (×${x.batch}) | ${ms(x.msPerImageSingle)} |`,
    );
  }
  lines.push('');
  lines.push('Per-class F1:');
  lines.push('');
  lines.push(`| model | ${r.labels.join(' | ')} |`);
  lines.push(`| --- | ${r.labels.map(() => '---:').join(' | ')} |`);
  for (const x of r.results) lines.push(`| ${x.name} | ${x.f1.map(f3).join(' | ')} |`);
  lines.push('');
  lines.push('Models and preprocessing:');
  lines.push('');
  for (const x of r.results) {
    lines.push(`- **${x.name}**: ${x.source}. ${x.preprocessing}.${x.note ? ` Note: ${x.note}.` : ''}`);
  }
  lines.push('');
  for (const note of r.notes) lines.push(`- ${note}`);
  return lines.join('\n');
}

export function peersCsv(r: PeersReport): string {
  const head = [
    'model',
    'engine',
    'tta',
    'n',
    'accuracy',
    'macro_f1',
    'ece',
    'nll',
    'ms_per_image',
    'ms_per_image_single',
    ...r.labels.map((l) => `f1_${l}`),
  ];
  const cell = (v: string | number) => {
    const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(6)) : v;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = r.results.map((x) =>
    [x.name, x.engine, x.tta, x.n, x.accuracy, x.macroF1, x.ece, x.nll, x.msPerImage, x.msPerImageSingle, ...x.f1]
      .map(cell)
      .join(','),
  );
  return [head.join(','), ...rows].join('\n') + '\n';
}

/** A compact text table for the terminal. */
export function formatPeers(r: PeersReport): string {
  const rows = [
    ['model', 'TTA', 'accuracy', 'macro-F1', 'ECE', 'ms/img batch', 'ms/img single', 'engine'],
    ...r.results.map((x) => [
      x.name,
      x.tta,
      `${pct(x.accuracy)}%`,
      f3(x.macroF1),
      f3(x.ece),
      ms(x.msPerImage),
      ms(x.msPerImageSingle),
      x.engine,
    ]),
  ];
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const text = rows.map((row) =>
    row
      .map((v, c) => (c >= 2 && c <= 6 ? v.padStart(w[c]) : v.padEnd(w[c])))
      .join('  ')
      .trimEnd(),
  );
  return [`ferkit bench peers: ${r.data}, ${r.n} faces`, '', ...text, '', ...r.notes.map((n) => `* ${n}`)].join('\n');
}
