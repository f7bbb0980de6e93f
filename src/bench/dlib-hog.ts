/**
 * Speed of ferkit's dlib HOG detector against dlib's own C++ (test/dlib-ref/hog.cpp, built against
 * Debian's libdlib-dev), side by side in one run on the same pixels: for each demo photo and each
 * upsampling, the median of `repeats` runs of each (dlib times itself inside its process, without
 * the file I/O; ferkit after one warm-up run). Also checks that both found the same rectangles.
 * Hook for `ferkit bench`; scripts/bench-dlib-hog.mjs runs it from dist/.
 */
import { createDlibHogDetector } from '../node/dlib-hog.js';
import { buildDlibHogReference, runDlibHogReference } from '../node/dlib-hog-reference.js';
import { demoPhotoPaths, loadBenchPhotos, median } from './photos.js';

export interface DlibHogBenchRow {
  photo: string;
  width: number;
  height: number;
  upsample: number;
  dlibMs: number;
  ferkitMs: number;
  /** ferkitMs / dlibMs. */
  ratio: number;
  faces: number;
  /** Same rectangles, in the same order, as dlib. */
  same: boolean;
}

export interface DlibHogBenchReport {
  rows: DlibHogBenchRow[];
  /** Per upsampling: medians over the photos of each side's medians, and their ratio. */
  summary: { upsample: number; dlibMs: number; ferkitMs: number; ratio: number }[];
  repeats: number;
  width: number;
}

export interface DlibHogBenchOptions {
  upsamples?: number[];
  /** Runs per photo and side; default 5. */
  repeats?: number;
  /** Photos resized to this width; default 800. */
  width?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function benchDlibHog(options: DlibHogBenchOptions = {}): Promise<DlibHogBenchReport> {
  const upsamples = options.upsamples ?? [0, 1];
  const repeats = options.repeats ?? 5;
  const width = options.width ?? 800;
  const [binary, detector, photos] = await Promise.all([
    buildDlibHogReference(),
    createDlibHogDetector(),
    loadBenchPhotos(demoPhotoPaths(), width),
  ]);
  const rows: DlibHogBenchRow[] = [];
  const total = upsamples.length * photos.length;
  try {
    for (const upsample of upsamples) {
      for (const { name, image } of photos) {
        const dlib = await runDlibHogReference(binary, image, upsample, repeats);
        let ours = detector.detectRaw(image, upsample, 0); // warm-up
        const times: number[] = [];
        for (let k = 0; k < repeats; k++) {
          const t0 = performance.now();
          ours = detector.detectRaw(image, upsample, 0);
          times.push(performance.now() - t0);
        }
        const ferkitMs = median(times);
        const dlibMs = dlib.medianMs ?? Number.NaN;
        rows.push({
          photo: name,
          width: image.width,
          height: image.height,
          upsample,
          dlibMs,
          ferkitMs,
          ratio: ferkitMs / dlibMs,
          faces: ours.length,
          same: JSON.stringify(ours.map((d) => d.rect)) === JSON.stringify(dlib.detections.map((d) => d.rect)),
        });
        options.onProgress?.(rows.length, total);
      }
    }
  } finally {
    detector.dispose();
  }
  const summary = upsamples.map((upsample) => {
    const rs = rows.filter((r) => r.upsample === upsample);
    const dlibMs = median(rs.map((r) => r.dlibMs));
    const ferkitMs = median(rs.map((r) => r.ferkitMs));
    return { upsample, dlibMs, ferkitMs, ratio: ferkitMs / dlibMs };
  });
  return { rows, summary, repeats, width };
}

export function formatDlibHogBench(report: DlibHogBenchReport): string {
  const lines = [
    `dlib HOG face detector: ferkit (TypeScript) vs dlib 19.24 (C++), ${report.width}-px demo photos, median of ${report.repeats} runs each`,
    '',
    '| photo | size | upsample | dlib ms | ferkit ms | ferkit / dlib | faces | same rects |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...report.rows.map(
      (r) =>
        `| ${r.photo} | ${r.width}×${r.height} | ${r.upsample} | ${r.dlibMs.toFixed(1)} | ${r.ferkitMs.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.faces} | ${r.same ? 'yes' : 'NO'} |`,
    ),
    '',
    '| upsample | dlib ms (median) | ferkit ms (median) | ratio |',
    '|---:|---:|---:|---:|',
    ...report.summary.map(
      (s) => `| ${s.upsample} | ${s.dlibMs.toFixed(1)} | ${s.ferkitMs.toFixed(1)} | ${s.ratio.toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}
