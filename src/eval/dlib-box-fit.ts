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
import {
  boxToDlibRect,
  createDlibShapePredictor,
  type DlibShapePredictor,
  dlibRectToBox,
} from '../landmarks/dlib-shape-predictor.js';
import { decodeImage } from '../node/decode.js';
import { loadDlibShapePredictor } from '../node/dlib-shape.js';
import { nodeRuntime } from '../node/runtime.js';
import { createFaceDetector } from '../node/stages.js';
import type { Box, Point, RgbImage } from '../types.js';
import { loadAfwAnnotations } from './afw.js';
import { byTolerance, fitBoxCalibration, matchBoxes, nme, pointsBox } from './afw-metrics.js';
import { buildDlibShapeReference, dlibHogRects } from './dlib-reference.js';

export type FitDetector = 'cnn' | 'blazeface' | 'haar';

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

/** One AFW photo with its annotated faces and the boxes of dlib's HOG detector and of ferkit's detectors. */
export interface AfwPhotoBoxes {
  file: string;
  /** GT boxes: bounding boxes of the 68 annotated points. */
  gt: Box[];
  truth: Point[][];
  image: RgbImage;
  /** dlib's C++ get_frontal_face_detector rectangles (upsample 1), as ferkit boxes. */
  dlib: Box[];
  det: Partial<Record<FitDetector, Box[]>>;
}

/**
 * Decodes the AFW photos and runs dlib's HOG detector (C++, upsample 1) and each ferkit detector
 * (as createFaceDetector makes it, one thread) on every one.
 */
export async function collectAfwBoxes(options: {
  dir: string;
  detectors: readonly FitDetector[];
  limit?: number;
  log?: (m: string) => void;
}): Promise<AfwPhotoBoxes[]> {
  const kinds = options.detectors;
  const log = options.log ?? (() => {});
  const truth = await loadAfwAnnotations(options.dir, options.limit);
  const binary = await buildDlibShapeReference();
  const detectors = await Promise.all(kinds.map((k) => createFaceDetector(k, nodeRuntime, { threads: 1 })));
  const photos: AfwPhotoBoxes[] = [];
  try {
    const batch = 12; // photos per run of dlib's HOG program (its stdin carries the raw pixels)
    for (let i0 = 0; i0 < truth.length; i0 += batch) {
      const chunk = truth.slice(i0, i0 + batch);
      const images = await Promise.all(chunk.map((t) => decodeImage(join(options.dir, t.file))));
      const hog = await dlibHogRects(binary, images, 1);
      for (let j = 0; j < chunk.length; j++) {
        const det: AfwPhotoBoxes['det'] = {};
        for (let d = 0; d < kinds.length; d++) {
          det[kinds[d]] = (await detectors[d].detect(images[j])).map((x) => x.box);
        }
        photos.push({
          file: chunk[j].file,
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
  return photos;
}

/** One annotated AFW face with its tolerant-matched dlib HOG box and detector box (null: not found). */
export interface AfwFaceBoxes {
  /** Index into the photos (its parity is the 2-fold split) and into that photo's faces. */
  photo: number;
  face: number;
  hog: Box | null;
  det: Box | null;
}

/** Every annotated face of every photo with its HOG and `kind` boxes, each matched to the face by tolerance. */
export function afwFaces(photos: readonly AfwPhotoBoxes[], kind: FitDetector): AfwFaceBoxes[] {
  return photos.flatMap((p, photo) => {
    const dets = p.det[kind] ?? [];
    const hog = matchBoxes(p.gt, p.dlib, byTolerance());
    const det = matchBoxes(p.gt, dets, byTolerance());
    return p.gt.map((_, face) => ({
      photo,
      face,
      hog: hog[face] >= 0 ? p.dlib[hog[face]] : null,
      det: det[face] >= 0 ? dets[det[face]] : null,
    }));
  });
}

/** (detector box, dlib box) pairs of the faces both found, for fitBoxCalibration: all photos or one parity. */
export function mappingPairs(faces: readonly AfwFaceBoxes[], fold: 0 | 1 | 'all'): { det: Box; gt: Box }[] {
  return faces.flatMap((f) =>
    f.det && f.hog && (fold === 'all' || f.photo % 2 === fold) ? [{ det: f.det, gt: f.hog }] : [],
  );
}

/** NME of dlib's predictor on `box` (a ferkit box, rounded to dlib's rectangle) against the 68 annotated points. */
export function dlibNme(predictor: DlibShapePredictor, image: RgbImage, box: Box, truth: readonly Point[]): number {
  const xy = predictor.predictRgb(image, boxToDlibRect(box));
  const pts: Point[] = [];
  for (let k = 0; k < xy.length; k += 2) pts.push([xy[k], xy[k + 1]]);
  return nme(pts, truth);
}

export async function runDlibAfw(options: {
  dir: string;
  detectors?: FitDetector[];
  limit?: number;
  log?: (m: string) => void;
}): Promise<DlibAfwReport> {
  const kinds = options.detectors ?? ['cnn', 'blazeface', 'haar'];
  const photos = await collectAfwBoxes({ ...options, detectors: kinds });
  const predictor = createDlibShapePredictor(await loadDlibShapePredictor());

  const landmarksNme = (i: number, g: number, box: Box): number =>
    dlibNme(predictor, photos[i].image, box, photos[i].truth[g]);
  const report: DlibAfwReport = {
    images: photos.length,
    faces: photos.reduce((n, p) => n + p.gt.length, 0),
    dlibBoxes: stats(afwFaces(photos, kinds[0]).flatMap((f) => (f.hog ? [landmarksNme(f.photo, f.face, f.hog)] : []))),
    detectors: [],
  };
  for (const kind of kinds) {
    const faces = afwFaces(photos, kind);
    const { pairs: count, ...fitted } = fitBoxCalibration(mappingPairs(faces, 'all'));
    const byFold = [fitBoxCalibration(mappingPairs(faces, 1)), fitBoxCalibration(mappingPairs(faces, 0))]; // photo i uses byFold[i % 2]
    const raw: number[] = [];
    const mapped: number[] = [];
    const committed: number[] = [];
    for (const { photo: i, face: g, det: box } of faces) {
      if (!box) continue;
      raw.push(landmarksNme(i, g, box));
      mapped.push(landmarksNme(i, g, mapBox(box, byFold[i % 2])));
      committed.push(landmarksNme(i, g, mapBox(box, DLIB_BOX_MAPPINGS[kind])));
    }
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
