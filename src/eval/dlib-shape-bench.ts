/**
 * Speed of ferkit's dlib shape predictor beside dlib's C++ (test/dlib-ref/shape.cpp), in one run on
 * the same faces: face-api's six demo photos at 800 px, ferkit's SSD boxes mapped to dlib's
 * convention. Per face: the median of `repeats` predictions; reported: the median over faces, for
 * Node (WebAssembly SIMD leaf sums, and the plain-JavaScript fallback) and for dlib, and the time
 * each takes to load the 100 MB model file. Rounds alternate Node and C++ so a changing machine
 * load hits both alike.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DLIB_BOX_MAPPINGS, mapBox } from '../landmarks/dlib-box-mapping.js';
import { parseDlibShapePredictor } from '../landmarks/dlib-shape-model.js';
import { boxToDlibRect, createDlibShapePredictor, dlibGray } from '../landmarks/dlib-shape-predictor.js';
import { decodeImageBytes } from '../node/decode.js';
import { DEFAULT_DLIB_SHAPE_PREDICTOR_PATH } from '../node/dlib-shape.js';
import { packageRoot } from '../node/paths.js';
import { nodeRuntime } from '../node/runtime.js';
import { createFaceDetector } from '../node/stages.js';
import { buildDlibShapeReference, dlibReferenceBench, type ReferenceInput } from './dlib-reference.js';

export interface DlibShapeBench {
  faces: number;
  repeats: number;
  rounds: number;
  /** Median over faces of each face's median time, ms. */
  nodeSimdMs: number;
  nodeJsMs: number;
  dlibCppMs: number;
  /** Loading the model file (read + parse / deserialize), ms: median over rounds. */
  nodeLoadMs: number;
  dlibLoadMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The demo photos at 800 px with their SSD boxes, mapped to dlib's convention. */
async function demoFaces(): Promise<ReferenceInput[]> {
  const detector = await createFaceDetector('cnn', nodeRuntime, { threads: 1 });
  const inputs: ReferenceInput[] = [];
  try {
    for (let i = 1; i <= 6; i++) {
      const file = join(packageRoot(), 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${i}.jpg`);
      const resized = await sharp(await readFile(file))
        .rotate()
        .resize(800)
        .png()
        .toBuffer();
      const image = await decodeImageBytes(new Uint8Array(resized), file);
      const rects = (await detector.detect(image)).map((d) => boxToDlibRect(mapBox(d.box, DLIB_BOX_MAPPINGS.cnn)));
      inputs.push({ image, rects });
    }
  } finally {
    await detector.dispose();
  }
  return inputs;
}

export async function benchDlibShape(
  options: { repeats?: number; rounds?: number; log?: (m: string) => void } = {},
): Promise<DlibShapeBench> {
  const repeats = options.repeats ?? 50;
  const rounds = options.rounds ?? 2;
  const log = options.log ?? (() => {});
  const binary = await buildDlibShapeReference();
  const faces = await demoFaces();
  const numFaces = faces.reduce((n, f) => n + f.rects.length, 0);
  const simd: number[] = [];
  const js: number[] = [];
  const cpp: number[] = [];
  const nodeLoad: number[] = [];
  const dlibLoad: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const model = parseDlibShapePredictor(
      await readFile(DEFAULT_DLIB_SHAPE_PREDICTOR_PATH),
      DEFAULT_DLIB_SHAPE_PREDICTOR_PATH,
    );
    nodeLoad.push(performance.now() - t0);
    for (const [useSimd, out] of [
      [true, simd],
      [false, js],
    ] as const) {
      const predictor = createDlibShapePredictor(model, { simd: useSimd });
      for (const { image, rects } of faces) {
        const gray = dlibGray(image);
        for (const rect of rects) {
          const times: number[] = [];
          for (let k = 0; k < repeats + 3; k++) {
            const s = performance.now();
            predictor.predict(gray, rect);
            if (k >= 3) times.push(performance.now() - s); // three warm-up runs
          }
          out.push(median(times));
        }
      }
    }
    const ref = await dlibReferenceBench(binary, faces, repeats);
    dlibLoad.push(ref.loadMs);
    cpp.push(...ref.medianUs.map((us) => us / 1000));
    log(
      `round ${round + 1}/${rounds}: node ${median(simd).toFixed(3)} ms/face, dlib ${median(cpp).toFixed(3)} ms/face`,
    );
  }
  return {
    faces: numFaces,
    repeats,
    rounds,
    nodeSimdMs: median(simd),
    nodeJsMs: median(js),
    dlibCppMs: median(cpp),
    nodeLoadMs: median(nodeLoad),
    dlibLoadMs: median(dlibLoad),
  };
}

export function formatDlibShapeBench(b: DlibShapeBench): string {
  const r = (x: number) => (x / b.dlibCppMs).toFixed(2);
  return [
    `dlib 68-point shape predictor, ${b.faces} faces (demo photos at 800 px, SSD boxes mapped), median over faces of the median of ${b.repeats} runs, ${b.rounds} rounds:`,
    '',
    '| implementation | ms / face | × dlib C++ | model load ms |',
    '|---|---:|---:|---:|',
    `| dlib C++ (g++ -O2, Debian libdlib-dev) | ${b.dlibCppMs.toFixed(3)} | 1.00 | ${b.dlibLoadMs.toFixed(0)} |`,
    `| ferkit, Node, WebAssembly SIMD leaf sums | ${b.nodeSimdMs.toFixed(3)} | ${r(b.nodeSimdMs)} | ${b.nodeLoadMs.toFixed(0)} |`,
    `| ferkit, Node, plain JavaScript | ${b.nodeJsMs.toFixed(3)} | ${r(b.nodeJsMs)} | (same) |`,
    '',
  ].join('\n');
}
