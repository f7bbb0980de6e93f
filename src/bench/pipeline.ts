/**
 * `ferkit bench pipeline`: ferkit's full pipeline and face-api's (node-wasm) on the same photos in
 * one run, each engine in its own process, and the ratio of their median latencies.
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EngineReport {
  engine: string;
  backend: string;
  loadMs: number;
  medianMs: number;
  peakRssMiB: number;
  perPhoto: { name: string; width: number; height: number; faces: number; medianMs: number }[];
}

export interface PipelineBenchOptions {
  photos: string[];
  runs: number;
  longSide: number;
  detector: 'cnn' | 'haar';
  engines: ('ferkit' | 'faceapi')[];
}

export async function benchPipeline(
  o: PipelineBenchOptions,
): Promise<{ machine: string; reports: EngineReport[]; ratio?: number }> {
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

export function formatPipelineBench(r: Awaited<ReturnType<typeof benchPipeline>>): string {
  const lines = [`machine: ${r.machine}`, ''];
  const names = r.reports[0]?.perPhoto.map((p) => p.name) ?? [];
  lines.push(
    ['photo', 'size', ...r.reports.map((e) => `${e.engine} faces`), ...r.reports.map((e) => `${e.engine} ms`)].join(
      ' | ',
    ),
  );
  names.forEach((n, i) => {
    const p0 = r.reports[0].perPhoto[i];
    lines.push(
      [
        n,
        `${p0.width}×${p0.height}`,
        ...r.reports.map((e) => e.perPhoto[i].faces),
        ...r.reports.map((e) => e.perPhoto[i].medianMs.toFixed(1)),
      ].join(' | '),
    );
  });
  lines.push('');
  for (const e of r.reports) {
    lines.push(
      `${e.engine} (${e.backend}): median ${e.medianMs.toFixed(1)} ms per photo, peak RSS ${e.peakRssMiB.toFixed(0)} MiB, model load ${e.loadMs.toFixed(0)} ms`,
    );
  }
  if (r.ratio) lines.push(`ratio: ferkit is ${r.ratio.toFixed(1)}× faster than face-api (median latency)`);
  return lines.join('\n');
}
