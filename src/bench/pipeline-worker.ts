/**
 * One engine's side of `ferkit bench pipeline`, in its own process so its peak memory is its own.
 * argv: <ferkit|faceapi> <runs> <longSide> <detector> <photo…>; prints one JSON line.
 */
import { createAnalyzer } from '../node/analyzer.js';
import type { DetectorKind } from '../node/stages.js';
import type { StageTimings } from '../pipeline/types.js';
import { loadFaceApiPeer } from './faceapi-peer.js';
import { loadBenchPhotos, median } from './photos.js';

async function main(): Promise<void> {
  const [engine, runsArg, sideArg, detector, ...paths] = process.argv.slice(2);
  const runs = Number(runsArg);
  const photos = await loadBenchPhotos(paths, Number(sideArg));
  const t0 = performance.now();
  /** Faces found, and (ferkit only) the analyzer's own per-stage times (src/pipeline/run.ts). */
  let analyze: (i: number) => Promise<{ faces: number; timings?: StageTimings }>;
  let dispose = async () => {};
  let backend: string;
  if (engine === 'ferkit') {
    const analyzer = await createAnalyzer({ detector: detector as DetectorKind });
    analyze = async (i) => {
      const { faces, timings } = await analyzer.analyzeImage(photos[i].image);
      return { faces: faces.length, timings };
    };
    dispose = () => analyzer.dispose();
    backend = 'onnxruntime-node';
  } else {
    const peer = await loadFaceApiPeer();
    analyze = async (i) => ({ faces: (await peer.analyze(photos[i].image)).length });
    backend = peer.backend;
  }
  const loadMs = performance.now() - t0;
  const perPhoto = [];
  const stageTimes: Record<string, number[]> = {};
  for (let i = 0; i < photos.length; i++) {
    const { faces } = await analyze(i); // warm-up
    await analyze(i);
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      const { timings } = await analyze(i);
      times.push(performance.now() - t);
      for (const [stage, ms] of Object.entries(timings ?? {}) as [string, number][])
        if (stage !== 'decode') (stageTimes[stage] ??= []).push(ms);
    }
    perPhoto.push({
      name: photos[i].name,
      width: photos[i].image.width,
      height: photos[i].image.height,
      faces,
      medianMs: median(times),
      times,
    });
  }
  await dispose();
  const all = perPhoto.flatMap((p) => p.times);
  console.log(
    JSON.stringify({
      engine,
      backend,
      loadMs,
      medianMs: median(all),
      stageMedianMs: Object.fromEntries(Object.entries(stageTimes).map(([k, v]) => [k, median(v)])),
      perPhoto: perPhoto.map(({ times: _t, ...p }) => p),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
