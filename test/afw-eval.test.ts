/**
 * AFW evaluation (src/eval/afw.ts): the matching, calibration and NME math on hand-made cases
 * (always), and a small real run on the first 10 photos when the AFW data is present
 * ($FERKIT_DATA/afw or ../shared/data/afw), plus its BENCHMARKS.md section through the built CLI.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AFW_BENCH_HELP, runAfwBench } from '../src/cli/bench-afw.js';
import { DEFAULT_HAAR_CASCADE_PATH } from '../src/detect/haar.js';
import { type AfwImage, defaultAfwDir, runAfwEvaluation } from '../src/eval/afw.js';
import {
  type AfwImageResult,
  applyBoxCalibration,
  byIou,
  byTolerance,
  fitBoxCalibration,
  interOcular,
  matchBoxes,
  nme,
  pointsBox,
  summarizeAfw,
  tolerantMatch,
} from '../src/eval/afw-metrics.js';
import { afwFacePoses, afwPoseReport } from '../src/eval/afw-pose.js';
import { formatAfwMarkdown } from '../src/eval/afw-report.js';
import { GENERIC_FACE_3D, POSE_BINS, poseRotation, projectPoints } from '../src/eval/head-pose.js';
import type { Box, Point } from '../src/types.js';
import { cli, expectSection, ferkit, staleBenchmarksFile } from './helpers/bench-cli.js';

/** A 68-point face: points spread over `box`, outer eye corners (36, 45) at 30% / 70% of the width. */
function face(box: Box): Point[] {
  const pts: Point[] = Array.from({ length: 68 }, (_, k) => [
    box.x + ((k % 17) / 16) * box.width,
    box.y + (Math.floor(k / 17) / 3) * box.height,
  ]);
  pts[36] = [box.x + 0.3 * box.width, box.y + 0.4 * box.height];
  pts[45] = [box.x + 0.7 * box.width, box.y + 0.4 * box.height];
  return pts;
}

describe('AFW math', () => {
  it('GT box = bounding box of the points; inter-ocular = |p36 − p45|', () => {
    const pts = face({ x: 10, y: 20, width: 100, height: 120 });
    expect(pointsBox(pts)).toEqual({ x: 10, y: 20, width: 100, height: 120 });
    expect(interOcular(pts)).toBeCloseTo(40, 10);
  });

  it('NME: a uniform shift of (3, 4) px is 5 px / inter-ocular distance', () => {
    const truth = face({ x: 0, y: 0, width: 200, height: 200 }); // inter-ocular 80
    const shifted = truth.map(([x, y]) => [x + 3, y + 4] as Point);
    expect(nme(shifted, truth)).toBeCloseTo(5 / 80, 12);
    expect(nme(truth, truth)).toBe(0);
    // Half the points off by 16 px, the rest exact: mean 8 px → 0.1.
    const half = truth.map(([x, y], k) => (k % 2 ? ([x + 16, y] as Point) : ([x, y] as Point)));
    expect(nme(half, truth)).toBeCloseTo(8 / 80, 12);
    expect(() => nme(truth.slice(0, 5), truth)).toThrow();
  });

  it('tolerant match: centre inside and sizes within 2×', () => {
    const gt = { x: 100, y: 100, width: 100, height: 100 };
    expect(tolerantMatch(gt, { x: 90, y: 60, width: 120, height: 160 })).toBe(true); // SSD-like: taller
    expect(tolerantMatch(gt, { x: 160, y: 100, width: 100, height: 100 })).toBe(false); // centre outside
    expect(tolerantMatch(gt, { x: 0, y: 0, width: 300, height: 300 })).toBe(false); // 3× too big
    expect(tolerantMatch(gt, { x: 120, y: 120, width: 50, height: 50 })).toBe(true); // exactly 2× smaller
    expect(tolerantMatch(gt, { x: 130, y: 130, width: 45, height: 45 })).toBe(false);
  });

  it('matching is one-to-one and greedy by IoU', () => {
    const gt = [
      { x: 0, y: 0, width: 100, height: 100 },
      { x: 20, y: 0, width: 100, height: 100 },
    ];
    // One detection between both GT boxes: IoU 0.74 with the first, 0.90 with the second → the second
    // takes it, and the first is not matched although its IoU is above the threshold.
    const det = [{ x: 15, y: 0, width: 100, height: 100 }];
    expect(matchBoxes(gt, det, byIou(0.5))).toEqual([-1, 0]);
    // A second detection exactly on the first GT box: both are found.
    expect(matchBoxes(gt, [...det, { x: 0, y: 0, width: 100, height: 100 }], byIou(0.5))).toEqual([1, 0]);
    expect(matchBoxes(gt, [], byIou(0.5))).toEqual([-1, -1]);
    expect(matchBoxes(gt, det, byIou(0.95))).toEqual([-1, -1]);
    expect(matchBoxes([gt[0]], [{ x: 10, y: -30, width: 90, height: 140 }], byTolerance())).toEqual([0]);
  });

  it('box calibration: recovers a fixed affine map and inverts the SSD convention', () => {
    // Detections 20% wider/taller than GT and shifted up by 15% of their height.
    const gts = [
      { x: 10, y: 10, width: 50, height: 60 },
      { x: 200, y: 80, width: 120, height: 140 },
      { x: 400, y: 300, width: 80, height: 90 },
    ];
    const dets = gts.map((g) => {
      const w = g.width * 1.2;
      const h = g.height * 1.2;
      const cx = g.x + g.width / 2;
      const cy = g.y + g.height / 2 - 0.15 * h;
      return { x: cx - w / 2, y: cy - h / 2, width: w, height: h };
    });
    const c = fitBoxCalibration(gts.map((gt, i) => ({ gt, det: dets[i] })));
    expect(c.pairs).toBe(3);
    expect(c.ox).toBeCloseTo(0, 10);
    expect(c.oy).toBeCloseTo(0.15, 10);
    expect(c.sw).toBeCloseTo(1 / 1.2, 10);
    expect(c.sh).toBeCloseTo(1 / 1.2, 10);
    dets.forEach((d, i) => {
      const b = applyBoxCalibration(d, c);
      for (const k of ['x', 'y', 'width', 'height'] as const) expect(b[k]).toBeCloseTo(gts[i][k], 8);
    });
    expect(fitBoxCalibration([])).toMatchObject({ ox: 0, oy: 0, sw: 1, sh: 1, pairs: 0 });
  });

  it('summarizes recall (raw, tolerant, held-out calibrated) and NME over photos', () => {
    // Four photos, one face each; the "detector" returns a box 1.5× taller, shifted up by ¾ of the face.
    const boxes = [
      { x: 0, y: 0, width: 100, height: 100 },
      { x: 50, y: 50, width: 80, height: 80 },
      { x: 10, y: 200, width: 120, height: 120 },
      { x: 300, y: 20, width: 60, height: 60 },
    ];
    const truth: AfwImage[] = boxes.map((b, i) => ({ file: `${i}.jpg`, width: 1000, height: 1000, faces: [face(b)] }));
    const results: AfwImageResult[] = boxes.map((b, i) => {
      const det = { x: b.x, y: b.y - 0.75 * b.height, width: b.width, height: b.height * 1.5 };
      const pts = truth[i].faces[0].map(([x, y]) => [x + 0.04 * interOcular(truth[i].faces[0]), y] as Point);
      return {
        file: `${i}.jpg`,
        gt: [pointsBox(truth[i].faces[0])],
        // Photo 3's detector misses (box elsewhere).
        detections:
          i === 3 ? [{ box: { x: 700, y: 700, width: 60, height: 60 }, score: 0.9 }] : [{ box: det, score: 0.9 }],
        landmarks: [i === 3 ? null : pts],
        detectMs: 10 + i,
      };
    });
    const s = summarizeAfw('fake', results, truth);
    expect(s.faces).toBe(4);
    expect(s.detections).toBe(4);
    // IoU of such a pair: overlap 0.75, union 1.75 (in face areas) → 3/7 (< 0.5, ≥ 0.3).
    expect(s.recall.iou50).toBe(0);
    expect(s.recall.iou30).toBe(0.75);
    expect(s.recall.tolerant).toBe(0.75);
    expect(s.recall.calibratedIou50).toBe(0.75); // the map is exact, and fitted on the other half
    expect(s.calibration.all.sh).toBeCloseTo(1 / 1.5, 10);
    expect(s.calibration.all.oy).toBeCloseTo(1 / 3, 10);
    expect(s.meanIou.raw).toBeCloseTo(3 / 7, 10);
    expect(s.meanIou.calibrated).toBeCloseTo(1, 10);
    expect(s.nme.faces).toBe(3);
    expect(s.nme.mean).toBeCloseTo(0.04, 10);
    expect(s.nme.under008).toBe(1);
    expect(s.detectMsMedian).toBe(11.5);
    const md = formatAfwMarkdown({ dir: 'x', images: 4, faces: 4, summaries: [s] });
    expect(md).toContain('| fake | 4 | 4 | 0.0% | 75.0% | 75.0% | 75.0% |');
  });
});

/** The generic 3D face turned by `yaw` degrees, ~90 px between the outer eye corners, centred at (cx, cy). */
function posedFace(yaw: number, cx: number, cy: number): Point[] {
  return projectPoints(GENERIC_FACE_3D, poseRotation(yaw, 0, 0), 1, [cx, cy]);
}

describe('AFW by head pose', () => {
  // Three photos, seven faces: yaws 0, 5, −30, 40, 60, −70, 20. The "detector" finds every face but
  // the second of each photo; its landmarks are the GT shifted by an error that grows with the face
  // index, and always drawn frontal, so a pose estimated from them would put every face in one bin.
  const yaws = [
    [0, 5, -30],
    [40, 60],
    [-70, 20],
  ];
  const truth: AfwImage[] = yaws.map((row, i) => ({
    file: `${i}.jpg`,
    width: 1000,
    height: 400,
    faces: row.map((yaw, k) => posedFace(yaw, 150 + 300 * k, 200)),
  }));
  const results: AfwImageResult[] = truth.map((t, i) => {
    const gt = t.faces.map(pointsBox);
    return {
      file: t.file,
      gt,
      detections: gt.flatMap((box, k) => (k === 1 ? [] : [{ box, score: 0.9 }])),
      landmarks: t.faces.map((f, k) => {
        if (k === 1) return null;
        const shift = 0.03 * (1 + i + k) * interOcular(f);
        return posedFace(0, 150 + 300 * k + shift, 200);
      }),
      detectMs: 5,
    };
  });

  it('bins come from the ground-truth points, whatever the detections or landmarks', () => {
    const poses = afwFacePoses(truth);
    expect(poses.map((row) => row.map((p) => p.bin))).toEqual([
      ['frontal', 'frontal', 'yaw 15–45°'],
      ['yaw 15–45°', 'yaw > 45°'],
      ['yaw > 45°', 'yaw 15–45°'],
    ]);
    poses.flat().forEach((p, n) => {
      expect(p.yaw).toBeCloseTo(yaws.flat()[n], 6);
    });
    const bad = [{ ...truth[0], faces: [truth[0].faces[0].slice(0, 67)] }];
    expect(() => afwFacePoses(bad)).toThrow(/0\.jpg: face 0: .*68 points/);
  });

  it('the breakdown adds up to the totals; missed faces count in their bin', () => {
    const poses = afwFacePoses(truth);
    const total = summarizeAfw('fake', results, truth);
    const report = afwPoseReport(['fake'], [results], truth, poses);
    expect(report.bins).toEqual([
      { bin: 'frontal', faces: 2 },
      { bin: 'yaw 15–45°', faces: 3 },
      { bin: 'yaw > 45°', faces: 2 },
    ]);
    expect(report.absYaw.max).toBeCloseTo(70, 6);
    const bins = report.detectors[0].bins;
    expect(bins.map((b) => b.bin)).toEqual([...POSE_BINS]);
    const sum = (f: (b: (typeof bins)[number]) => number) => bins.reduce((n, b) => n + f(b), 0);
    expect(sum((b) => b.faces)).toBe(total.faces);
    for (const k of ['iou50', 'iou30', 'tolerant', 'calibratedIou50'] as const) {
      expect(sum((b) => b.recall[k] * b.faces)).toBeCloseTo(total.recall[k] * total.faces, 9);
    }
    expect(sum((b) => b.nme.faces)).toBe(total.nme.faces);
    expect(sum((b) => (b.nme.faces ? b.nme.mean * b.nme.faces : 0))).toBeCloseTo(total.nme.mean * total.nme.faces, 9);
    expect(sum((b) => b.nme.under010 * b.nme.faces)).toBeCloseTo(total.nme.under010 * total.nme.faces, 9);
    // Frontal: faces 0/0 (found) and 0/1 (missed) → 50% recall, one landmarked face.
    expect(bins[0].recall.tolerant).toBe(0.5);
    expect(bins[0].nme.faces).toBe(1);
    // Beyond 45°: 1/1 (missed) and 2/0 (found).
    expect(bins[2].recall.tolerant).toBe(0.5);
    // The rendered section: one row per detector and bin in each table.
    const md = formatAfwMarkdown({ dir: 'x', images: 3, faces: 7, summaries: [total], pose: report });
    expect(md).toContain('### By head pose');
    expect(md).toContain('frontal 2, yaw 15–45° 3, yaw > 45° 2 faces');
    expect(md).toContain('| fake | frontal | 2 | 50.0% |');
    expect(md).toContain('| fake | yaw 15–45° | 3 | 66.7% |');
    expect(md).toMatch(/\| fake \| yaw > 45° \| 1 \| 0\.\d{4} \|/);
    expect(md.indexOf('### By head pose')).toBeLessThan(md.indexOf('Conventions:'));
    // An empty bin shows dashes, not 0% recall.
    const empty = afwPoseReport(['fake'], [results.slice(0, 1)], truth.slice(0, 1), poses.slice(0, 1));
    const emptyMd = formatAfwMarkdown({ dir: 'x', images: 1, faces: 3, summaries: [total], pose: empty });
    expect(emptyMd).toContain('| fake | yaw > 45° | 0 | – | – | – | – |');
  });
});

const AFW_DIR = defaultAfwDir();
const haveAfw = existsSync(`${AFW_DIR}/landmarks68.json`);

describe.skipIf(!haveAfw)('AFW, first 10 photos (real data)', () => {
  it('cnn (default size) and haar: recall and landmark NME in the expected range', { timeout: 900_000 }, async () => {
    const haar = existsSync(DEFAULT_HAAR_CASCADE_PATH);
    const report = await runAfwEvaluation({
      dir: AFW_DIR,
      limit: 10,
      detectors: haar ? [{ kind: 'cnn' }, { kind: 'haar' }] : [{ kind: 'cnn' }],
    });
    console.log(formatAfwMarkdown(report));
    expect(report.images).toBe(10);
    expect(report.faces).toBeGreaterThanOrEqual(10);
    const cnn = report.summaries[0];
    expect(cnn.recall.tolerant).toBeGreaterThanOrEqual(0.85);
    expect(cnn.recall.calibratedIou50).toBeGreaterThanOrEqual(0.75);
    expect(cnn.nme.faces).toBeGreaterThan(0);
    expect(cnn.nme.mean).toBeLessThan(0.12);
    if (haar) {
      const h = report.summaries[1];
      expect(h.recall.tolerant).toBeGreaterThan(0.5);
      expect(h.nme.mean).toBeLessThan(0.2);
    }
  });
});

describe('ferkit bench afw CLI', () => {
  it('skips cleanly without data and rejects bad options', async () => {
    const log: string[] = [];
    const orig = console.log;
    const origErr = console.error;
    console.log = (m: string) => log.push(m);
    console.error = (m: string) => log.push(m);
    try {
      expect(await runAfwBench(['--data', '/nonexistent/afw'])).toBe(0);
      expect(log.join('\n')).toContain('skipped');
      expect(await runAfwBench(['--detector', 'hog'])).toBe(2);
      expect(await runAfwBench(['--landmarks', 'dlob'])).toBe(2);
      expect(await runAfwBench(['--detector', 'dlib', '--dlib-upsample', '1.5'])).toBe(2);
      expect(await runAfwBench(['--sizes', '512,abc'])).toBe(2);
      expect(await runAfwBench(['--precision', 'int8,fp16'])).toBe(2);
      expect(log.at(-1)).toContain('--precision: expected one of int8, float, got "fp16"');
      expect(await runAfwBench(['--help'])).toBe(0);
      expect(log.at(-1)).toBe(AFW_BENCH_HELP);
      expect(AFW_BENCH_HELP).toContain('--write-benchmarks');
      expect(AFW_BENCH_HELP).toContain('<!-- ferkit:afw -->');
      expect(AFW_BENCH_HELP).toContain('--benchmarks-file F');
    } finally {
      console.log = orig;
      console.error = origErr;
    }
    // The built CLI routes `bench afw --help` to the suite's own help, `bench --help` to the general one.
    const afwHelp = await ferkit(['bench', 'afw', '--help']);
    expect(afwHelp.code).toBe(0);
    expect(afwHelp.stdout.trim()).toBe(AFW_BENCH_HELP.trim());
    const benchHelp = await ferkit(['bench', '--help']);
    expect(benchHelp.stdout).toContain('Suites:');
  });

  it.skipIf(!haveAfw || !existsSync(cli))(
    '--limit 1 --write-benchmarks: the recall and NME tables between the afw markers',
    { timeout: 300_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ferkit-afw-bench-'));
      try {
        const file = await staleBenchmarksFile(dir, 'afw');
        const args = [
          'bench',
          'afw',
          '--limit',
          '1',
          '--detector',
          'cnn',
          '--write-benchmarks',
          '--benchmarks-file',
          file,
        ];
        const r = await ferkit(args);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`updated the afw section of ${file}`);
        const section = await expectSection(file, 'afw', '## AFW: detection recall and landmark error', args);
        expect(section).not.toContain('\n# '); // formatAfwMarkdown's title is left out
        expect(section).toMatch(/^1 photos, \d+ annotated faces \(/m);
        expect(section).toContain('| detector | faces | detections | recall IoU≥0.5 |');
        expect(section).toMatch(/^\| cnn@\d+[^|]* \| \d+ \| \d+ \| [\d.]+% \|/m);
        expect(section).toContain('| detector + landmarks | landmark faces | mean NME |');
        expect(section).toContain('Box calibration');
        expect(section).toContain('### By head pose');
        expect(section).toMatch(/^\| cnn@\d+[^|]* \| frontal \| \d+ \| [\d.]+% \|/m);
        expect(section).toContain('| detector + landmarks | pose | landmark faces | mean NME |');
        expect(r.stdout).toContain('### By head pose');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
