/**
 * `ferkit bench pipeline`: ferkit's full pipeline and face-api's (node-wasm) on the same photos in
 * one run, each engine in its own process, and the ratio of their median latencies.
 */

import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DetectorKind } from '../node/stages.js';
import { markdownTable } from './report.js';

const run = promisify(execFile);

export interface EngineReport {
  engine: string;
  backend: string;
  loadMs: number;
  medianMs: number;
  /** ferkit only: median ms of each pipeline stage (detect, landmarks, align, expression, total) over all timed runs. */
  stageMedianMs?: Record<string, number>;
  peakRssMiB: number;
  perPhoto: { name: string; width: number; height: number; faces: number; medianMs: number }[];
}

export interface PipelineBenchOptions {
  photos: string[];
  runs: number;
  longSide: number;
  detector: Exclude<DetectorKind, 'dlib'>;
  engines: ('ferkit' | 'faceapi')[];
}

export interface PipelineBenchReport {
  machine: string;
  reports: EngineReport[];
  /** face-api's median over ferkit's, when both ran. */
  ratio?: number;
}

export async function benchPipeline(o: PipelineBenchOptions): Promise<PipelineBenchReport> {
  const worker = join(fileURLToPath(new URL('.', import.meta.url)), 'pipeline-worker.js');
  const reports: EngineReport[] = [];
  for (const engine of o.engines) {
    process.stderr.write(`bench: ${engine} on ${o.photos.length} photos × ${o.runs} runs…\n`);
    const { stdout } = await run(
      process.execPath,
      [worker, engine, String(o.runs), String(o.longSide), o.detector, ...o.photos],
      {
        maxBuffer: 1 << 24,
      },
    );
    reports.push(JSON.parse(stdout.trim().split('\n').pop()!));
  }
  const f = reports.find((r) => r.engine === 'ferkit');
  const p = reports.find((r) => r.engine === 'faceapi');
  const c = cpus();
  return {
    machine: `${c.length} × ${c[0]?.model ?? 'cpu'}, Node ${process.version}`,
    reports,
    ratio: f && p ? p.medianMs / f.medianMs : undefined,
  };
}

/** Header and one row per photo: size, faces found by each engine, each engine's median ms. */
function perPhotoRows(r: PipelineBenchReport): string[][] {
  const header = [
    'photo',
    'size',
    ...r.reports.map((e) => `${e.engine} faces`),
    ...r.reports.map((e) => `${e.engine} ms`),
  ];
  const rows = (r.reports[0]?.perPhoto ?? []).map((p0, i) => [
    p0.name,
    `${p0.width}×${p0.height}`,
    ...r.reports.map((e) => String(e.perPhoto[i].faces)),
    ...r.reports.map((e) => e.perPhoto[i].medianMs.toFixed(1)),
  ]);
  return [header, ...rows];
}

/** One line per engine (median, peak RSS, model load), then the ratio when both engines ran. */
function summaryLines(r: PipelineBenchReport): string[] {
  const lines = r.reports.map((e) => {
    const stages = Object.entries(e.stageMedianMs ?? {})
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k} ${v.toFixed(2)}`);
    return (
      `${e.engine} (${e.backend}): median ${e.medianMs.toFixed(1)} ms per photo, peak RSS ${e.peakRssMiB.toFixed(0)} MiB, model load ${e.loadMs.toFixed(0)} ms` +
      (stages.length ? `; stage medians (ms): ${stages.join(', ')}` : '')
    );
  });
  if (r.ratio) lines.push(`ratio: ferkit is ${r.ratio.toFixed(1)}× faster than face-api (median latency)`);
  return lines;
}

/** The terminal report: machine, per-photo table, per-engine summary and ratio. */
export function formatPipelineBench(r: PipelineBenchReport): string {
  return [`machine: ${r.machine}`, '', ...perPhotoRows(r).map((row) => row.join(' | ')), '', ...summaryLines(r)].join(
    '\n',
  );
}

/** The same report as Markdown for BENCHMARKS.md (the machine is in the section's metadata). */
export function pipelineBenchMarkdown(r: PipelineBenchReport, o: PipelineBenchOptions): string {
  const [header, ...rows] = perPhotoRows(r);
  const size = o.longSide > 0 ? `resized so the longer side is ${o.longSide} px` : 'at original size';
  return [
    `${o.photos.length} photo${o.photos.length === 1 ? '' : 's'} ${size}, decoded once; each engine (${o.engines.join(', ')}) in its own process, 2 warm-ups + ${o.runs} timed runs per photo; detection + 68 landmarks + expressions, ferkit's detector ${o.detector}.`,
    '',
    markdownTable(header, rows, 2),
    '',
    ...summaryLines(r).map((line) => `- ${line}`),
  ].join('\n');
}
