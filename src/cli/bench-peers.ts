/** `ferkit bench peers`: ferkit's expression models, face-api's and Human's on the same FER2013 crops (src/bench/peers.ts). */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { TfBackend } from '../bench/peer-models.js';
import type { PeerSpec } from '../bench/peers.js';
import { writeRequestedSection } from '../bench/report.js';
import { loadData, parseInteger, parseSuiteArgs } from './bench-args.js';
import { parseChoice } from './command.js';
import { ProgressBar } from './progress.js';

const PEER_KINDS = ['ferkit', 'face-api', 'human'] as const;

export async function peers(argv: string[]): Promise<number> {
  const { listExpressionModels, loadFerkitPeer, peersCsv, peersMarkdown, formatPeers, runPeers } = await import(
    '../bench/peers.js'
  );
  const { loadFaceApiExpression, loadHumanEmotion } = await import('../bench/peer-models.js');
  const { values } = parseSuiteArgs(argv, {
    data: { type: 'string' },
    split: { type: 'string' },
    limit: { type: 'string' },
    model: { type: 'string', multiple: true },
    peers: { type: 'string' },
    backend: { type: 'string' },
    batch: { type: 'string' },
    single: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
  });
  const kinds = (values.peers ?? PEER_KINDS.join(','))
    .split(',')
    .map((s) => parseChoice(s.trim(), '--peers', PEER_KINDS)!);
  const backend = parseChoice<TfBackend>(values.backend, '--backend', ['wasm', 'cpu']) ?? 'wasm';
  const batch = parseInteger(values.batch, '--batch', 1, 4096) ?? 64;
  const single = parseInteger(values.single, '--single', 0, 100_000) ?? 100;
  const threads = parseInteger(values.threads, '--threads', 0, 256);
  const outDir = resolve(values.out ?? 'ferkit-peers');
  const data = await loadData(values, 'peers');

  const specs: PeerSpec[] = [];
  if (kinds.includes('ferkit')) {
    const models = values.model?.length ? values.model : await listExpressionModels();
    if (!models.length) console.error('ferkit bench peers: warning: no expression models found in models/');
    for (const m of models) specs.push({ name: m, load: () => loadFerkitPeer(m, { threads }) });
  }
  if (kinds.includes('face-api'))
    specs.push({ name: 'face-api expression', load: () => loadFaceApiExpression(backend) });
  if (kinds.includes('human')) specs.push({ name: 'Human emotion', load: () => loadHumanEmotion(backend) });

  const bar = new ProgressBar(data.images.length * specs.length, 'crops');
  const report = await runPeers({
    images: data.images,
    labels: data.labels,
    peers: specs,
    data: data.source,
    batch,
    singleCalls: single,
    onProgress: (peer, done) => bar.update(done, peer),
  });
  bar.finish();

  await mkdir(outDir, { recursive: true });
  const files = {
    markdown: join(outDir, 'peers.md'),
    csv: join(outDir, 'peers.csv'),
    json: join(outDir, 'peers.json'),
  };
  const md = peersMarkdown(report);
  await writeFile(files.markdown, `# Expression models on ${basename(data.source)}\n\n${md}\n`);
  await writeFile(files.csv, peersCsv(report));
  const full = { ...report, files };
  await writeFile(files.json, `${JSON.stringify(full, null, 2)}\n`);
  await writeRequestedSection(values, 'peers', '## ferkit and other open expression models on the same crops', md);
  console.log(
    values.json ? JSON.stringify(full) : `${formatPeers(report)}\n\nwrote ${Object.values(files).join(', ')}`,
  );
  return 0;
}
