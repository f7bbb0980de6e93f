/**
 * `ferkit bench landmarks`: milliseconds per face of the 68-point landmark stage (crop, resample,
 * inference and mapping back: what the pipeline spends), single-threaded, for ferkit's model and
 * face-api's, on onnxruntime-node and on onnxruntime-web's WASM backend (the browser app's engine
 * without WebGPU, run here in Node). Faces: ferkit's detector boxes on a demo photo, one face per
 * call and all of them in one call.
 */
import { readFile } from 'node:fs/promises';
import { ensureFaceApiModels } from '../convert/main.js';
import { DEFAULT_LANDMARK_MODEL } from '../landmarks/default-model.js';
import { createLandmarkModel } from '../landmarks/landmark68.js';
import { decodeImage } from '../node/decode.js';
import { nodeRuntime } from '../node/runtime.js';
import { bundledLandmarkModelPath, createFaceDetector, DEFAULT_DETECTOR_KIND } from '../node/stages.js';
import type { Box, RgbImage } from '../types.js';
import { BENCH_ENGINE_LABEL, BENCH_ENGINES, type BenchEngine, benchRuntime } from './engines.js';
import { median } from './photos.js';
import { markdownTable } from './report.js';

export type LandmarkBenchEngine = BenchEngine;
export const LANDMARK_BENCH_ENGINES = BENCH_ENGINES;
/** The models timed: ferkit's bundled default and face-api's converted net. */
export type LandmarkBenchModel = 'ferkit' | 'faceapi';
export const LANDMARK_BENCH_MODELS: readonly LandmarkBenchModel[] = ['ferkit', 'faceapi'];

export interface LandmarkBenchRow {
  model: string;
  engine: LandmarkBenchEngine;
  threads: number;
  msPerFaceSingle: number;
  msPerFaceBatched: number;
  /** Faces in the batched call (the photo's). */
  faces: number;
}

async function modelFile(model: LandmarkBenchModel): Promise<{ path: string; name: string }> {
  if (model === 'ferkit') return { path: bundledLandmarkModelPath(), name: DEFAULT_LANDMARK_MODEL };
  return { path: (await ensureFaceApiModels()).landmark68.model, name: 'face-api FaceLandmark68Net' };
}

/**
 * Times every model on every engine; on each engine the models are interleaved round by round so
 * that a change in machine load touches them alike. `photo`'s faces come from ferkit's default detector.
 */
export async function benchLandmarks(
  photo: string,
  options: { runs?: number; threads?: number; engines?: readonly LandmarkBenchEngine[] } = {},
): Promise<LandmarkBenchRow[]> {
  const { runs = 200, threads = 1, engines = LANDMARK_BENCH_ENGINES } = options;
  const image: RgbImage = await decodeImage(photo);
  const detector = await createFaceDetector(DEFAULT_DETECTOR_KIND, nodeRuntime, { threads });
  const boxes: Box[] = (await detector.detect(image)).map((d) => d.box);
  await detector.dispose();
  if (!boxes.length) throw new Error(`${photo}: no face found to time the landmark models on`);
  const rows: LandmarkBenchRow[] = [];
  // One engine at a time (a browser runs only one), its models interleaved round by round.
  for (const engine of engines) {
    const runtime = await benchRuntime(engine, threads);
    const subjects = [];
    for (const model of LANDMARK_BENCH_MODELS) {
      const file = await modelFile(model);
      const stage = await createLandmarkModel(runtime, {
        model: await readFile(file.path),
        source: file.path,
        threads,
      });
      for (let i = 0; i < 5; i++) await stage.detect(image, boxes);
      subjects.push({ name: file.name, stage, single: [] as number[], batched: [] as number[] });
    }
    const rounds = Math.max(5, Math.ceil(runs / boxes.length));
    for (let r = 0; r < rounds; r++) {
      for (const s of subjects) {
        for (const box of boxes) {
          const t = performance.now();
          await s.stage.detect(image, [box]);
          s.single.push(performance.now() - t);
        }
        const t = performance.now();
        await s.stage.detect(image, boxes);
        s.batched.push((performance.now() - t) / boxes.length);
      }
    }
    for (const s of subjects) {
      await s.stage.dispose();
      rows.push({
        model: s.name,
        engine,
        threads,
        msPerFaceSingle: median(s.single),
        msPerFaceBatched: median(s.batched),
        faces: boxes.length,
      });
    }
  }
  return rows;
}

/** The timings as a Markdown table (also what the command prints). */
export function formatLandmarkBench(rows: LandmarkBenchRow[]): string {
  return markdownTable(
    ['model', 'engine', 'threads', 'ms/face (1 per call)', `ms/face (${rows[0]?.faces ?? ''} per call)`],
    rows.map((r) => [
      r.model,
      BENCH_ENGINE_LABEL[r.engine],
      String(r.threads),
      r.msPerFaceSingle.toFixed(2),
      r.msPerFaceBatched.toFixed(2),
    ]),
    2,
  );
}

/** BENCHMARKS.md body: what was timed, then the table. */
export function landmarkBenchMarkdown(rows: LandmarkBenchRow[], photo: string, runs: number): string {
  return [
    `The whole landmark stage (crop, 112×112 resample, network, points mapped back) on the ${rows[0]?.faces ?? '–'} faces ferkit's detector finds in ${photo.split('/').pop()}: about ${runs} single-face calls and one call with every face per round, one engine at a time, its models interleaved round by round after 5 warm-ups; medians. onnxruntime-web's WASM backend (SIMD) runs in Node here: the engine of ferkit's browser app without WebGPU.`,
    '',
    formatLandmarkBench(rows),
  ].join('\n');
}
