/**
 * Fits the box mappings of src/landmarks/dlib-box-mapping.ts on AFW and measures dlib's 68-point
 * predictor (ferkit's port) there: NME normalised by the outer eye corners (src/eval/afw.ts) on
 *   (a) dlib's own HOG rectangles (dlib's C++ get_frontal_face_detector, upsample 1),
 *   (b) each ferkit detector's boxes as they are, and
 *   (c) the same boxes mapped to dlib's convention — with the mapping fitted on the other half of
 *       the photos (2-fold by photo index parity, as afw.ts calibrates), so no face is scored with a
 *       mapping fitted on itself; the constants to commit are fitted on all photos.
 * A mapping is fitted on AFW faces that both the detector and dlib's HOG detector find (tolerant
 * match to the same annotated face): per-parameter medians (afw.ts fitBoxCalibration) from the
 * detector's box to dlib's rectangle. Note dlib's model was trained on 300-W's training images,
 * AFW among them: its AFW numbers are optimistic.
 */
import { join } from 'node:path';
import { DLIB_BOX_MAPPINGS, type DlibBoxMapping, mapBox } from '../landmarks/dlib-box-mapping.js';
import { boxToDlibRect, createDlibShapePredictor, dlibGray, dlibRectToBox } from '../landmarks/dlib-shape-predictor.js';
import { decodeImage } from '../node/decode.js';
import { loadDlibShapePredictor } from '../node/dlib-shape.js';
import { nodeRuntime } from '../node/runtime.js';
import { createFaceDetector } from '../node/stages.js';
import type { Box, Point, RgbImage } from '../types.js';
import { loadAfwAnnotations } from './afw.js';
import { byTolerance, fitBoxCalibration, matchBoxes, nme, pointsBox } from './afw-metrics.js';
import { buildDlibShapeReference, dlibHogRects } from './dlib-reference.js';

export type FitDetector = 'cnn' | 'haar';

export interface NmeStats {
  faces: number;
  mean: number;
  median: number;
}

export interface DlibAfwReport {
  images: number;
  faces: number;
  /** (a) on dlib's HOG rectangles. */
  dlibBoxes: NmeStats;
  detectors: {
    kind: FitDetector;
    /** Fitted on all photos (the constants to commit). */
    mapping: DlibBoxMapping & { pairs: number };
    /** (b) raw boxes; (c) mapped, held-out fold mapping; (c') mapped with the committed constants. */
    unmapped: NmeStats;
    mapped: NmeStats;
    committed: NmeStats;
  }[];
}

function stats(errors: number[]): NmeStats {
  const s = [...errors].sort((a, b) => a - b);
  const m = s.length >> 1;
  return {
    faces: s.length,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN,
    median: s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : Number.NaN,
  };
}

interface PhotoBoxes {
  gt: Box[];
  truth: Point[][];
  image: RgbImage;
  dlib: Box[];
  det: Record<FitDetector, Box[]>;
}

export async function runDlibAfw(options: {
  dir: string;
  detectors?: FitDetector[];
  limit?: number;
  log?: (m: string) => void;
}): Promise<DlibAfwReport> {
  const kinds = options.detectors ?? ['cnn', 'haar'];
  const log = options.log ?? (() => {});
  const truth = await loadAfwAnnotations(options.dir, options.limit);
  const binary = await buildDlibShapeReference();
  const model = await loadDlibShapePredictor();
  const predictor = createDlibShapePredictor(model);
  const detectors = await Promise.all(kinds.map((k) => createFaceDetector(k, nodeRuntime, { threads: 1 })));
  const photos: PhotoBoxes[] = [];
  try {
    const batch = 12; // photos per run of dlib's HOG program (its stdin carries the raw pixels)
    for (let i0 = 0; i0 < truth.length; i0 += batch) {
      const chunk = truth.slice(i0, i0 + batch);
      const images = await Promise.all(chunk.map((t) => decodeImage(join(options.dir, t.file))));
      const hog = await dlibHogRects(binary, images, 1);
      for (let j = 0; j < chunk.length; j++) {
        const det = {} as Record<FitDetector, Box[]>;
        for (let d = 0; d < kinds.length; d++) {
          det[kinds[d]] = (await detectors[d].detect(images[j])).map((x) => x.box);
        }
        photos.push({
          gt: chunk[j].faces.map(pointsBox),
          truth: chunk[j].faces,
          image: images[j],
          dlib: hog[j].map(dlibRectToBox),
          det,
        });
      }
      log(`AFW: ${Math.min(i0 + batch, truth.length)}/${truth.length} photos detected`);
    }
  } finally {
    for (const d of detectors) await d.dispose();
  }

  const grays = photos.map((p) => dlibGray(p.image));
  const landmarksNme = (i: number, g: number, box: Box): number => {
    const xy = predictor.predict(grays[i], boxToDlibRect(box));
    const pts: Point[] = [];
    for (let k = 0; k < xy.length; k += 2) pts.push([xy[k], xy[k + 1]]);
    return nme(pts, photos[i].truth[g]);
  };
  const match = (i: number, boxes: Box[]) => matchBoxes(photos[i].gt, boxes, byTolerance());

  const dlibErrors: number[] = [];
  photos.forEach((p, i) => {
    match(i, p.dlib).forEach((j, g) => {
      if (j >= 0) dlibErrors.push(landmarksNme(i, g, p.dlib[j]));
    });
  });

  const report: DlibAfwReport = {
    images: photos.length,
    faces: photos.reduce((n, p) => n + p.gt.length, 0),
    dlibBoxes: stats(dlibErrors),
    detectors: [],
  };
  for (const kind of kinds) {
    const pairs = (fold: 0 | 1 | 'all') =>
      photos.flatMap((p, i) => {
        if (fold !== 'all' && i % 2 !== fold) return [];
        const md = match(i, p.dlib);
        return match(i, p.det[kind]).flatMap((j, g) =>
          j >= 0 && md[g] >= 0 ? [{ det: p.det[kind][j], gt: p.dlib[md[g]] }] : [],
        );
      });
    const { pairs: count, ...fitted } = fitBoxCalibration(pairs('all'));
    const byFold = [fitBoxCalibration(pairs(1)), fitBoxCalibration(pairs(0))]; // photo i uses byFold[i % 2]
    const raw: number[] = [];
    const mapped: number[] = [];
    const committed: number[] = [];
    photos.forEach((p, i) => {
      match(i, p.det[kind]).forEach((j, g) => {
        if (j < 0) return;
        const box = p.det[kind][j];
        raw.push(landmarksNme(i, g, box));
        mapped.push(landmarksNme(i, g, mapBox(box, byFold[i % 2])));
        committed.push(landmarksNme(i, g, mapBox(box, DLIB_BOX_MAPPINGS[kind])));
      });
    });
    report.detectors.push({
      kind,
      mapping: { ...fitted, pairs: count },
      unmapped: stats(raw),
      mapped: stats(mapped),
      committed: stats(committed),
    });
  }
  return report;
}

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** The report as Markdown: NME table and the mapping constants as TypeScript. */
export function formatDlibAfw(r: DlibAfwReport): string {
  const row = (label: string, s: NmeStats) => `| ${label} | ${s.faces} | ${f(s.mean)} | ${f(s.median)} |`;
  const lines = [
    `AFW: ${r.images} photos, ${r.faces} annotated faces. dlib 68-point predictor (ferkit's port), NME / outer-eye-corner distance.`,
    '',
    '| boxes | faces | mean NME | median NME |',
    '|---|---:|---:|---:|',
    row("dlib's HOG detector (C++, upsample 1)", r.dlibBoxes),
  ];
  for (const d of r.detectors) {
    lines.push(row(`${d.kind}, unmapped`, d.unmapped));
    lines.push(row(`${d.kind}, mapped (held-out 2-fold fit)`, d.mapped));
    lines.push(row(`${d.kind}, mapped (committed constants)`, d.committed));
  }
  lines.push('', 'Mappings fitted on all photos (paste into src/landmarks/dlib-box-mapping.ts):', '');
  for (const d of r.detectors) {
    const m = d.mapping;
    lines.push(
      `  ${d.kind}: { ox: ${m.ox.toFixed(4)}, oy: ${m.oy.toFixed(4)}, sw: ${m.sw.toFixed(4)}, sh: ${m.sh.toFixed(4)} }, // ${m.pairs} pairs`,
    );
  }
  return `${lines.join('\n')}\n`;
}
