#!/usr/bin/env node
/**
 * What mapping ferkit's SSD boxes to dlib's box convention costs dlib's 68-point predictor, face by
 * face on AFW (issue 20, item 0). Needs `npx tsc -p tsconfig.json` first, g++, libdlib-dev, libdlib-data.
 *
 *   node bench/dlib-box-mapping-tail.mjs [--data DIR] [--limit N] [--boxes FILE.json]
 *
 * Every annotated AFW face gets dlib's HOG box (dlib's C++ detector, upsample 1) and ferkit's SSD box
 * when those detectors find it (tolerant match to the annotated points' box, src/eval/dlib-box-fit.ts).
 * dlib's predictor is then run on the HOG box and on the SSD box mapped to dlib's convention with a
 * mapping fitted on the OTHER half of the photos (2-fold by photo parity), so no face is scored with
 * a mapping fitted on itself. Reported: NME distributions on the faces both detectors find (the
 * mapping's cost) and on the faces only the SSD finds; the tail (NME > 0.1) against head yaw
 * (from the annotation), face size, image edges and how far the mapped box lands from dlib's own;
 * and the held-out NME of other fixed box mappings. dlib's model was trained on AFW: these numbers
 * measure the mapping's cost, not the predictor's accuracy.
 * --boxes caches the detections (the slow part) in a JSON file: written when missing, read after.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultAfwDir, loadAfwAnnotations } from '../dist/eval/afw.js';
import { afwFaces, collectAfwBoxes, dlibNme, mappingPairs } from '../dist/eval/dlib-box-fit.js';
import { fitBoxCalibration, pointsBox } from '../dist/eval/afw-metrics.js';
import { iou } from '../dist/image/ops.js';
import { DLIB_BOX_MAPPINGS, mapBox } from '../dist/landmarks/dlib-box-mapping.js';
import { boxToDlibRect, createDlibShapePredictor } from '../dist/landmarks/dlib-shape-predictor.js';
import { decodeImage } from '../dist/node/decode.js';
import { loadDlibShapePredictor } from '../dist/node/dlib-shape.js';

const { values } = parseArgs({
  options: { data: { type: 'string' }, limit: { type: 'string' }, boxes: { type: 'string' } },
});
const dir = values.data ?? defaultAfwDir();
const limit = values.limit ? Number(values.limit) : undefined;
const log = (m) => process.stderr.write(`${m}\n`);

// ---------------------------------------------------------------------------------------------
// Detections (cached) and the per-face table

async function photosWithBoxes() {
  if (values.boxes && existsSync(values.boxes)) {
    const cached = JSON.parse(readFileSync(values.boxes, 'utf8'));
    const truth = await loadAfwAnnotations(dir, limit);
    return Promise.all(
      truth.map(async (t, i) => {
        if (cached[i]?.file !== t.file) throw new Error(`${values.boxes}: photo ${i} is not ${t.file}; delete the file`);
        const image = await decodeImage(join(dir, t.file));
        return { ...cached[i], gt: t.faces.map(pointsBox), truth: t.faces, image };
      }),
    );
  }
  const photos = await collectAfwBoxes({ dir, detectors: ['cnn'], limit, log });
  if (values.boxes) writeFileSync(values.boxes, JSON.stringify(photos.map(({ file, dlib, det }) => ({ file, dlib, det }))));
  return photos;
}

const photos = await photosWithBoxes();
const predictor = createDlibShapePredictor(await loadDlibShapePredictor());
const faces = afwFaces(photos, 'cnn');
const foldMapping = [fitBoxCalibration(mappingPairs(faces, 1)), fitBoxCalibration(mappingPairs(faces, 0))];
const heldOut = (f) => foldMapping[f.photo % 2]; // fitted on the other parity

/**
 * Head yaw proxy from the 68 annotated points: how far the nose tip (30) sits between the jaw's ends
 * (0 and 16): 0 = frontal, 1 = the nose at a jaw end (full profile).
 */
function signedYaw(pts) {
  const dl = Math.hypot(pts[30][0] - pts[0][0], pts[30][1] - pts[0][1]);
  const dr = Math.hypot(pts[30][0] - pts[16][0], pts[30][1] - pts[16][1]);
  return (dl - dr) / (dl + dr);
}

/** Fraction of a box's area outside the image. */
function outside(box, image) {
  const w = Math.max(0, Math.min(box.x + box.width, image.width) - Math.max(box.x, 0));
  const h = Math.max(0, Math.min(box.y + box.height, image.height) - Math.max(box.y, 0));
  return 1 - (w * h) / (box.width * box.height);
}

const rows = faces.map((f) => {
  const p = photos[f.photo];
  const truth = p.truth[f.face];
  const mapped = f.det ? mapBox(f.det, heldOut(f)) : null;
  return {
    ...f,
    file: p.file,
    signedYaw: signedYaw(truth),
    yaw: Math.abs(signedYaw(truth)),
    size: Math.sqrt(p.gt[f.face].width * p.gt[f.face].height),
    gtOutside: outside(p.gt[f.face], p.image),
    detAspect: f.det ? f.det.height / f.det.width : Number.NaN,
    hogNme: f.hog ? dlibNme(predictor, p.image, f.hog, truth) : Number.NaN,
    ssdNme: mapped ? dlibNme(predictor, p.image, mapped, truth) : Number.NaN,
    committedNme: f.det ? dlibNme(predictor, p.image, mapBox(f.det, DLIB_BOX_MAPPINGS.cnn), truth) : Number.NaN,
    // Where the mapped SSD box lands against dlib's own box (faces both found).
    boxIou: mapped && f.hog ? iou(mapped, f.hog) : Number.NaN,
    // dlib's box centre minus the mapped box centre, in dlib box widths / heights.
    dx: mapped && f.hog ? (f.hog.x + f.hog.width / 2 - mapped.x - mapped.width / 2) / f.hog.width : Number.NaN,
    dy: mapped && f.hog ? (f.hog.y + f.hog.height / 2 - mapped.y - mapped.height / 2) / f.hog.height : Number.NaN,
    sizeRatio: mapped && f.hog ? Math.sqrt((mapped.width * mapped.height) / (f.hog.width * f.hog.height)) : Number.NaN,
  };
});
const both = rows.filter((r) => r.hog && r.det);
const ssdOnly = rows.filter((r) => r.det && !r.hog);
const hogOnly = rows.filter((r) => r.hog && !r.det);

// ---------------------------------------------------------------------------------------------
// Report

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => {
  const s = sorted(xs);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : Number.NaN;
};
const median = (xs) => {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : Number.NaN;
};
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const f4 = (x) => (Number.isFinite(x) ? x.toFixed(4) : '–');
const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');
const row = (label, xs) =>
  `| ${label} | ${xs.length} | ${f4(median(xs))} | ${f4(mean(xs))} | ${f4(quantile(xs, 0.9))} | ${pct(xs.filter((x) => x > 0.1).length / xs.length)} |`;
const table = (title, entries) => [
  '',
  title,
  '',
  '| boxes → dlib predictor | faces | median NME | mean NME | p90 | NME > 0.1 |',
  '|---|---:|---:|---:|---:|---:|',
  ...entries.map(([label, xs]) => row(label, xs)),
];

const out = [
  `AFW: ${photos.length} photos, ${rows.length} annotated faces; dlib HOG finds ${rows.filter((r) => r.hog).length}, SSD ${rows.filter((r) => r.det).length}, both ${both.length}, SSD only ${ssdOnly.length}, HOG only ${hogOnly.length}.`,
  `Held-out mappings (fitted on odd / even photos): ${foldMapping.map((m) => JSON.stringify({ ox: +m.ox.toFixed(4), oy: +m.oy.toFixed(4), sw: +m.sw.toFixed(4), sh: +m.sh.toFixed(4) })).join(' / ')}`,
  ...table('Faces both detectors find (the cost of the mapping):', [
    ["dlib's HOG box", both.map((r) => r.hogNme)],
    ['SSD box, mapped (held-out fit)', both.map((r) => r.ssdNme)],
    ['SSD box, mapped (committed constants)', both.map((r) => r.committedNme)],
    ['per face: mapped SSD − HOG', both.map((r) => r.ssdNme - r.hogNme)],
  ]),
  ...table('Faces only one detector finds:', [
    ['SSD only: SSD box, mapped (held-out fit)', ssdOnly.map((r) => r.ssdNme)],
    ['HOG only: HOG box', hogOnly.map((r) => r.hogNme)],
  ]),
];

// The tail by head yaw: the SSD finds profile faces dlib's frontal HOG detector (and the frontal-ish
// predictor) does not handle.
const yawBins = [0, 0.15, 0.3, 0.5, 1.01];
const byYaw = [];
for (let b = 0; b + 1 < yawBins.length; b++) {
  const inBin = (r) => r.yaw >= yawBins[b] && r.yaw < yawBins[b + 1];
  byYaw.push([`yaw ${yawBins[b]}–${Math.min(1, yawBins[b + 1])}: both, HOG box`, both.filter(inBin).map((r) => r.hogNme)]);
  byYaw.push([`yaw ${yawBins[b]}–${Math.min(1, yawBins[b + 1])}: both, mapped SSD`, both.filter(inBin).map((r) => r.ssdNme)]);
  byYaw.push([`yaw ${yawBins[b]}–${Math.min(1, yawBins[b + 1])}: SSD only`, ssdOnly.filter(inBin).map((r) => r.ssdNme)]);
}
out.push(...table('By head yaw (|nose–jaw-end distance asymmetry|, from the annotation; 0 frontal, 1 profile):', byYaw));

// Tail faces: what sets them apart.
const describe = (label, rs) => {
  const tail = rs.filter((r) => r.ssdNme > 0.1);
  const rest = rs.filter((r) => r.ssdNme <= 0.1);
  const m = (xs, key) => f4(median(xs.map((r) => r[key])));
  return [
    `| ${label}, NME > 0.1 | ${tail.length} | ${m(tail, 'yaw')} | ${m(tail, 'size')} | ${pct(tail.filter((r) => r.gtOutside > 0).length / tail.length)} | ${m(tail, 'detAspect')} | ${m(tail, 'boxIou')} | ${m(tail, 'sizeRatio')} |`,
    `| ${label}, NME ≤ 0.1 | ${rest.length} | ${m(rest, 'yaw')} | ${m(rest, 'size')} | ${pct(rest.filter((r) => r.gtOutside > 0).length / rest.length)} | ${m(rest, 'detAspect')} | ${m(rest, 'boxIou')} | ${m(rest, 'sizeRatio')} |`,
  ];
};
out.push(
  '',
  'The tail (mapped-SSD NME > 0.1) against the rest: medians of yaw, face size (px), share of faces running off the image, SSD box height/width, IoU and size ratio of the mapped box to the HOG box:',
  '',
  '| faces | n | yaw | size px | off image | SSD h/w | IoU to HOG | size / HOG |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...describe('both', both),
  ...describe('SSD only', ssdOnly),
  '',
  'Worst faces both detectors find (mapped SSD NME, HOG NME, yaw, size, IoU to HOG box, size ratio):',
  ...[...both]
    .sort((a, b) => b.ssdNme - a.ssdNme)
    .slice(0, 8)
    .map(
      (r) =>
        `  ${r.file}#${r.face}: ${f4(r.ssdNme)} vs ${f4(r.hogNme)}, yaw ${r.yaw.toFixed(2)}, ${r.size.toFixed(0)} px, IoU ${r.boxIou.toFixed(2)}, size ×${r.sizeRatio.toFixed(2)}`,
    ),
);

// Where the mapped box misses dlib's: the horizontal miss follows the head's yaw, which the SSD box
// (whose height/width does not follow yaw) cannot tell.
const correlation = (a, b) => {
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
};
const spread = (key) => [0.05, 0.5, 0.95].map((q) => quantile(both.map((r) => r[key]), q).toFixed(3)).join(' / ');
out.push(
  '',
  `Mapped SSD box vs dlib's box on the faces both find (5% / median / 95%): centre miss x ${spread('dx')}, y ${spread('dy')} box sides; size ×${spread('sizeRatio')}.`,
  `Correlation with the signed yaw: x miss ${correlation(both.map((r) => r.signedYaw), both.map((r) => r.dx)).toFixed(2)}, y miss ${correlation(both.map((r) => r.signedYaw), both.map((r) => r.dy)).toFixed(2)}; |yaw| with the SSD box's height/width ${correlation(both.map((r) => r.yaw), both.map((r) => r.detAspect)).toFixed(2)}.`,
);

// ---------------------------------------------------------------------------------------------
// Other mappings, each fitted on one half of the photos and scored on the other half's faces that
// both detectors find.

/** dlib's predicted points as [x, y] pairs. */
const predictPoints = (image, box) => {
  const xy = predictor.predictRgb(image, boxToDlibRect(box));
  const pts = [];
  for (let k = 0; k < xy.length; k += 2) pts.push([xy[k], xy[k + 1]]);
  return pts;
};
const nmeOf = (r, box) => dlibNme(predictor, photos[r.photo].image, box, photos[r.photo].truth[r.face]);
/** dlib's rectangles are square: one side from the SSD box's width, the centre shifted as before. */
const squareMap = (box, m) => {
  const side = m.sw * box.width;
  return mapBox(box, { ox: m.ox, oy: m.oy, sw: side / box.width, sh: side / box.height });
};
/** Coordinate search on (ox, oy, sw, sh) for the lowest mean of min(NME, 0.2) on `train`. */
function fitByNme(train, start) {
  const loss = (m) => mean(train.map((r) => Math.min(0.2, nmeOf(r, mapBox(r.det, m)))));
  let best = { ...start };
  let bestLoss = loss(best);
  for (const step of [0.04, 0.02, 0.01]) {
    for (let improved = true; improved; ) {
      improved = false;
      for (const key of ['ox', 'oy', 'sw', 'sh']) {
        for (const d of [-step, step]) {
          const m = { ...best, [key]: best[key] + d };
          const l = loss(m);
          if (l < bestLoss) [best, bestLoss, improved] = [m, l, true];
        }
      }
    }
  }
  return best;
}
const folds = [0, 1].map((fold) => both.filter((r) => r.photo % 2 === fold));
/** Held-out NME per face for a mapping family: fit(trainFaces) → box function; photo parity p is scored with the fit on 1 − p. */
const heldOutNme = (fit) => {
  const maps = [fit(folds[1]), fit(folds[0])];
  return both.map((r) => nmeOf(r, maps[r.photo % 2](r)));
};
const medianFit = (train) => fitBoxCalibration(train.map((r) => ({ det: r.det, gt: r.hog })));
// Re-centring (not a function of the box alone): the box dlib's detector would draw around the first
// pass's points (medians fitted from the annotated points' box to dlib's box), then a second pass.
const recentre = (train) => {
  const first = medianFit(train);
  const toDlib = fitBoxCalibration(train.map((r) => ({ det: photos[r.photo].gt[r.face], gt: r.hog })));
  return (r) => mapBox(pointsBox(predictPoints(photos[r.photo].image, mapBox(r.det, first))), toDlib);
};
out.push(
  ...table('Other mappings of the SSD box on the faces both find (held-out 2-fold fits):', [
    ["dlib's HOG box (reference)", both.map((r) => r.hogNme)],
    ['4-parameter medians (committed form)', heldOutNme((t) => ((m) => (r) => mapBox(r.det, m))(medianFit(t)))],
    ['square, side from the width (medians)', heldOutNme((t) => ((m) => (r) => squareMap(r.det, m))(medianFit(t)))],
    ['4 parameters fitted to NME', heldOutNme((t) => ((m) => (r) => mapBox(r.det, m))(fitByNme(t, medianFit(t))))],
    ['two passes: re-centred on the first pass points', heldOutNme(recentre)],
  ]),
  ...table("How much a sideways shift alone costs: dlib's own HOG box moved left and right (each face twice):", [
    ...[0.05, 0.1, 0.15].map((dx) => [
      `HOG box moved ±${dx} of its width`,
      both.flatMap((r) => [-dx, dx].map((d) => nmeOf(r, { ...r.hog, x: r.hog.x + d * r.hog.width }))),
    ]),
  ]),
);
process.stdout.write(`${out.join('\n')}\n`);
