/**
 * `ferkit bench follow`: what running the face detector on every Nth frame only (faces followed by
 * their landmarks in between, src/pipeline/landmark-follow.ts) costs in agreement and gains in
 * speed, against detecting on every frame. Each video's frames are decoded once; every frame then
 * goes through one video stream per N, in rotating order, so all settings are timed side by side
 * under the same machine load. Agreement per frame: faces matched to the every-frame faces at
 * IoU ≥ 0.5 (greedy, best first), the matched boxes' IoU, and whether the labels (smoothed, as
 * `ferkit video` reports them) agree.
 */
import { iou } from '../image/ops.js';
import type { Analyzer } from '../node/analyzer.js';
import type { TrackedFace } from '../track/tracker.js';
import { decodeFrames, probeVideo, type RawFrame } from '../video/ffmpeg.js';
import { videoTracker } from '../video/process.js';
import { markdownTable } from './report.js';

export interface FollowBenchOptions {
  analyzer: Analyzer;
  videos: readonly string[];
  /** The N values to compare; 1 (every frame, the reference) is always included. */
  detectEvery: readonly number[];
  /** At most this many frames per video (default: all). */
  maxFrames?: number;
  /** Called after each frame with the number of frames done (all videos). */
  onProgress?: (done: number) => void;
}

export interface FollowBenchRow {
  video: string;
  detectEvery: number;
  frames: number;
  /** Frames on which the detector ran. */
  detectedFrames: number;
  /** Frames per second of analysis (decoding excluded): frames / summed analysis time. */
  fps: number;
  /** Median milliseconds per frame. */
  medianMs: number;
  /** fps / the every-frame fps of the same video, measured in the same run. */
  speedup: number;
  /** Faces found with every-frame detection (summed over frames). */
  referenceFaces: number;
  faces: number;
  /** Matched faces / reference faces. */
  recall: number;
  /** Matched faces / this setting's faces. */
  precision: number;
  /** Mean IoU of the matched boxes. */
  meanIou: number;
  /** Matched faces whose label equals the every-frame label. */
  labelAgreement: number;
}

export interface FollowBenchResult {
  rows: FollowBenchRow[];
}

const MATCH_IOU = 0.5;

/** Greedy one-to-one matching of `faces` to `reference` by IoU ≥ 0.5, best pairs first. */
export function matchFaces(
  reference: readonly TrackedFace[],
  faces: readonly TrackedFace[],
): { ious: number[]; sameLabel: number } {
  const pairs: [number, number, number][] = [];
  reference.forEach((r, i) => {
    faces.forEach((f, j) => {
      const v = iou(r.box, f.box);
      if (v >= MATCH_IOU) pairs.push([v, i, j]);
    });
  });
  pairs.sort((a, b) => b[0] - a[0]);
  const usedR = new Set<number>();
  const usedF = new Set<number>();
  const ious: number[] = [];
  let sameLabel = 0;
  for (const [v, i, j] of pairs) {
    if (usedR.has(i) || usedF.has(j)) continue;
    usedR.add(i);
    usedF.add(j);
    ious.push(v);
    if (reference[i].expression.label === faces[j].expression.label) sameLabel++;
  }
  return { ious, sameLabel };
}

async function readFrames(path: string, maxFrames?: number): Promise<{ frames: RawFrame[]; fps: number }> {
  const info = await probeVideo(path);
  const decoder = decodeFrames({ input: path, width: info.width, height: info.height });
  const frames: RawFrame[] = [];
  for await (const f of decoder) {
    frames.push(f);
    if (maxFrames && frames.length >= maxFrames) {
      decoder.stop();
      break;
    }
  }
  await decoder.done.catch((e) => {
    if (!maxFrames || frames.length < maxFrames) throw e;
  });
  return { frames, fps: info.fps };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : 0;
};

export async function benchFollow(o: FollowBenchOptions): Promise<FollowBenchResult> {
  const settings = [...new Set([1, ...o.detectEvery])].sort((a, b) => a - b);
  const rows: FollowBenchRow[] = [];
  let done = 0;
  for (const video of o.videos) {
    const { frames, fps } = await readFrames(video, o.maxFrames);
    const streams = settings.map((n) => o.analyzer.videoStream({ detectEvery: n, tracker: videoTracker(fps) }));
    const ms = settings.map(() => [] as number[]);
    const detected = settings.map(() => 0);
    const faces = settings.map(() => 0);
    const ious = settings.map(() => [] as number[]);
    const sameLabel = settings.map(() => 0);
    for (const frame of frames) {
      const image = { width: frame.width, height: frame.height, data: frame.data };
      const results: TrackedFace[][] = [];
      // Rotate the order so no setting always runs first (caches, load drift).
      for (let k = 0; k < settings.length; k++) {
        const s = (k + frame.index) % settings.length;
        const t = performance.now();
        const r = await streams[s].analyze(image);
        ms[s].push(performance.now() - t);
        if (r.detected) detected[s]++;
        faces[s] += r.faces.length;
        results[s] = r.faces;
      }
      for (let s = 0; s < settings.length; s++) {
        const m = matchFaces(results[0], results[s]);
        ious[s].push(...m.ious);
        sameLabel[s] += m.sameLabel;
      }
      o.onProgress?.(++done);
    }
    const fpsOf = (s: number) => (1000 * frames.length) / ms[s].reduce((a, b) => a + b, 0);
    settings.forEach((n, s) => {
      const matched = ious[s].length;
      rows.push({
        video,
        detectEvery: n,
        frames: frames.length,
        detectedFrames: detected[s],
        fps: fpsOf(s),
        medianMs: median(ms[s]),
        speedup: fpsOf(s) / fpsOf(0),
        referenceFaces: faces[0],
        faces: faces[s],
        recall: faces[0] ? matched / faces[0] : 1,
        precision: faces[s] ? matched / faces[s] : 1,
        meanIou: matched ? ious[s].reduce((a, b) => a + b, 0) / matched : 0,
        labelAgreement: matched ? sameLabel[s] / matched : 1,
      });
    });
  }
  return { rows };
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function tableRows(result: FollowBenchResult): string[][] {
  return result.rows.map((r) => [
    r.video.split('/').pop() ?? r.video,
    String(r.detectEvery),
    `${r.frames} (${r.detectedFrames} detected)`,
    r.fps.toFixed(1),
    r.medianMs.toFixed(1),
    `${r.speedup.toFixed(2)}×`,
    `${r.faces} / ${r.referenceFaces}`,
    pct(r.recall),
    pct(r.precision),
    r.meanIou.toFixed(3),
    pct(r.labelAgreement),
  ]);
}

const HEADER = [
  'video',
  'detect every',
  'frames',
  'frames/s',
  'median ms/frame',
  'speed-up',
  'faces / every-frame faces',
  'recall',
  'precision',
  'mean IoU',
  'same label',
];

export function followBenchMarkdown(result: FollowBenchResult): string {
  return [
    'Agreement is measured against detection on every frame (detect every 1) in the same run: faces',
    'matched at IoU ≥ 0.5, the mean IoU of matched boxes, and the share of matched faces with the same',
    '(smoothed) label. frames/s counts analysis only (frames decoded beforehand); each frame goes through every setting in rotating order, so the speed-ups are side-by-side ratios.',
    '',
    markdownTable(HEADER, tableRows(result), 1),
  ].join('\n');
}

export function formatFollowBench(result: FollowBenchResult): string {
  const rows = [HEADER, ...tableRows(result)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    .join('\n');
}
