/**
 * `ferkit video` and `ferkit camera --input` end to end, with Debian's ffmpeg:
 *  - a clip synthesised from a demo photo (panned, with a sine audio track), every frame analysed;
 *  - the same without audio, every 3rd frame;
 *  - the same clip with the detector on every 4th frame only (--detect-every), faces followed;
 *  - ../shared/data/video/short_hamilton_clip.mp4 when present (FERKIT_DATA), every 25th frame;
 *  - clear errors for a missing input, a non-video and a missing ffmpeg.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import camera from '../src/cli/camera.js';
import video from '../src/cli/video.js';
import { iou } from '../src/image/ops.js';
import { createAnalyzer } from '../src/node/analyzer.js';
import { decodeFrames, probeVideo, type RawFrame } from '../src/video/ffmpeg.js';
import { latestFrames } from '../src/video/live.js';
import { analyzeFrames, type FrameResult } from '../src/video/process.js';
import { summaryPathFor, type TimelineRow, type VideoSummary } from '../src/video/timeline.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('ffprobe', ['-version']).status === 0;
const DATA = resolve(process.env.FERKIT_DATA ?? '../shared/data');
const HAMILTON = join(DATA, 'video', 'short_hamilton_clip.mp4');
const PHOTO = resolve('node_modules/@vladmandic/face-api/demo/sample1.jpg');

interface Probe {
  video?: {
    frames: number;
    duration: number;
    fps: number;
    width: number;
    height: number;
    codec: string;
    pixFmt: string;
  };
  audio: boolean;
}

function probe(path: string): Probe {
  const j = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', path], { encoding: 'utf8' }),
  );
  // biome-ignore lint/suspicious/noExplicitAny: ffprobe JSON
  const v = j.streams.find((s: any) => s.codec_type === 'video');
  const [a, b] = String(v?.r_frame_rate ?? '0/1')
    .split('/')
    .map(Number);
  return {
    // biome-ignore lint/suspicious/noExplicitAny: ffprobe JSON
    audio: j.streams.some((s: any) => s.codec_type === 'audio'),
    video: v && {
      frames: Number(v.nb_frames),
      duration: Number(v.duration),
      fps: a / b,
      width: v.width,
      height: v.height,
      codec: v.codec_name,
      pixFmt: v.pix_fmt,
    },
  };
}

/** A 960×540, 10 fps clip of a photo panned 4 px and 3 px a frame; three faces visible throughout. */
function synthesise(out: string, frames: number, audio: boolean) {
  const t = (frames / 10).toFixed(2);
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-loop', '1', '-framerate', '10', '-t', t, '-i', PHOTO],
    ...(audio ? ['-f', 'lavfi', '-t', t, '-i', 'sine=frequency=440:sample_rate=44100'] : []),
    ...['-filter_complex', "[0:v]scale=1040:-2,crop=960:540:'t*40':'t*30',format=yuv420p[v]", '-map', '[v]'],
    ...(audio ? ['-map', '1:a', '-c:a', 'aac'] : []),
    ...['-c:v', 'libx264', '-preset', 'veryfast', out],
  ]);
}

async function runQuiet(cmd: typeof video, argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    stdout += a.join(' ') + '\n';
  });
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  }) as typeof process.stdout.write);
  try {
    return { code: await cmd.run(argv), stdout };
  } finally {
    log.mockRestore();
    err.mockRestore();
    write.mockRestore();
  }
}

/** One row per face per processed frame: (frame, faceId) unique, frames on the stride. */
function checkRows(rows: TimelineRow[], frames: number, every: number) {
  const keys = new Set(rows.map((r) => `${r.frame}:${r.faceId}`));
  expect(keys.size).toBe(rows.length);
  for (const r of rows) {
    expect(r.frame % every).toBe(0);
    expect(r.frame).toBeLessThan(frames);
    const sum = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].reduce(
      (s, l) => s + (r[l as keyof TimelineRow] as number),
      0,
    );
    expect(sum).toBeCloseTo(1, 2);
  }
}

function readCsv(path: string): TimelineRow[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map(
    (l) =>
      Object.fromEntries(
        l.split(',').map((v, i) => [cols[i], cols[i] === 'label' ? v : Number(v)]),
      ) as unknown as TimelineRow,
  );
}

describe.skipIf(!hasFfmpeg)('ferkit video', () => {
  let dir: string;
  let clip: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferkit-video-'));
    clip = join(dir, 'pan.mp4');
    synthesise(clip, 12, true);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('annotates every frame of a panned photo: same frame count, duration and audio; stable ids; timeline, summary and chart', async () => {
    const out = join(dir, 'pan.annotated.mp4');
    const timeline = join(dir, 'pan.json');
    const plot = join(dir, 'pan.png');
    const { code, stdout } = await runQuiet(video, [
      clip,
      '--out',
      out,
      '--timeline',
      timeline,
      '--plot',
      plot,
      '--quiet',
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const src = probe(clip);
    const dst = probe(out);
    expect(dst.video?.codec).toBe('h264');
    expect(dst.video?.pixFmt).toBe('yuv420p');
    expect(dst.video?.width).toBe(960);
    expect(Math.abs(dst.video!.frames - src.video!.frames)).toBeLessThanOrEqual(1);
    expect(Math.abs(dst.video!.duration - src.video!.duration)).toBeLessThanOrEqual(1 / src.video!.fps + 1e-3);
    expect(dst.video!.fps).toBeCloseTo(src.video!.fps, 3);
    expect(dst.audio).toBe(true);

    const rows = JSON.parse(readFileSync(timeline, 'utf8')) as TimelineRow[];
    checkRows(rows, 12, 1);
    const byFrame = new Map<number, number[]>();
    for (const r of rows) byFrame.set(r.frame, [...(byFrame.get(r.frame) ?? []), r.faceId]);
    expect([...byFrame.keys()].sort((a, b) => a - b)).toEqual([...Array(12).keys()]); // every frame processed, faces in each
    const first = new Set(byFrame.get(0));
    expect(first.size).toBeGreaterThanOrEqual(2);
    for (const [, ids] of byFrame) for (const id of ids) expect(first.has(id)).toBe(true); // no id ever re-assigned
    for (const id of first) expect(rows.filter((r) => r.faceId === id).length).toBeGreaterThanOrEqual(10);

    const summary = JSON.parse(readFileSync(summaryPathFor(timeline), 'utf8')) as VideoSummary;
    expect(summary.frames).toBe(12);
    expect(summary.processedFrames).toBe(12);
    expect(summary.faces.reduce((s, f) => s + f.frames, 0)).toBe(rows.length);
    for (const f of summary.faces) expect(Object.values(f.share).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 3);
    const meta = await sharp(plot).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThanOrEqual(1000);

    // `ferkit camera --input` takes the same path: one JSON line per frame with the same tracked faces
    // (camera follows faces between detections by default; --detect-every 1 detects on every frame as video does)
    const cam = await runQuiet(camera, ['--input', clip, '--detect-every', '1']);
    expect(cam.code).toBe(0);
    const lines = cam.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(12);
    for (const l of lines) {
      const expected = rows.filter((r) => r.frame === l.frame);
      expect(l.faces.map((f: { id: number }) => f.id).sort()).toEqual(expected.map((r) => r.faceId).sort());
      for (const f of l.faces) {
        const r = expected.find((x) => x.faceId === f.id)!;
        expect(Math.abs(f.box.x - r.x)).toBeLessThan(0.5);
      }
    }
  }, 240_000);

  it('with --every 3 and no audio: annotates all frames, analyses every 3rd, CSV timeline', async () => {
    const silent = join(dir, 'silent.mp4');
    synthesise(silent, 12, false);
    const out = join(dir, 'silent.annotated.mp4');
    const timeline = join(dir, 'silent.csv');
    const { code } = await runQuiet(video, [
      silent,
      '--out',
      out,
      '--timeline',
      timeline,
      '--every',
      '3',
      '--smooth',
      '1',
      '--quiet',
    ]);
    expect(code).toBe(0);
    const dst = probe(out);
    expect(dst.audio).toBe(false);
    expect(Math.abs(dst.video!.frames - 12)).toBeLessThanOrEqual(1);
    const rows = readCsv(timeline);
    checkRows(rows, 12, 3);
    expect(new Set(rows.map((r) => r.frame))).toEqual(new Set([0, 3, 6, 9]));
    const summary = JSON.parse(readFileSync(summaryPathFor(timeline), 'utf8')) as VideoSummary;
    expect(summary.processedFrames).toBe(4);
  }, 180_000);

  it('--detect-every 4: detector on frames 0, 4, 8 only, the same faces followed in between', async () => {
    const analyzer = await createAnalyzer();
    try {
      const run = async (detectEvery: number) => {
        const out: FrameResult[] = [];
        const info = await probeVideo(clip);
        const frames = decodeFrames({ input: clip, width: info.width, height: info.height });
        for await (const f of analyzeFrames(frames, { analyzer, fps: info.fps, detectEvery })) out.push(f);
        return out;
      };
      const every = await run(1);
      const followed = await run(4);
      expect(every.map((f) => f.detected)).toEqual(every.map(() => true));
      expect(followed.map((f) => f.detected)).toEqual(followed.map((f) => f.index % 4 === 0));
      for (const [i, f] of followed.entries()) {
        const ref = every[i].faces;
        expect(f.faces.length).toBe(ref.length);
        for (const face of f.faces) {
          // The followed box stays on the face the detector finds on that frame (IoU ≥ 0.5, the bench's match).
          const best = Math.max(...ref.map((r) => iou(r.box, face.box)));
          expect(best).toBeGreaterThanOrEqual(0.5);
        }
        expect(new Set(f.faces.map((x) => x.id))).toEqual(new Set(followed[0].faces.map((x) => x.id)));
      }
    } finally {
      await analyzer.dispose();
    }
    // The CLI flag reaches the frame loop, and a bad value is a usage error naming it.
    const cam = await runQuiet(camera, ['--input', clip, '--detect-every', '4', '--frames', '6']);
    expect(cam.code).toBe(0);
    expect(cam.stdout.trim().split('\n').length).toBe(6);
    await expect(video.run([clip, '--detect-every', '0'])).rejects.toThrow(/--detect-every/);
  }, 240_000);

  it.skipIf(!existsSync(HAMILTON))(
    'short_hamilton_clip.mp4 (every 25th frame): frame count, duration, audio kept, timeline rows',
    async () => {
      const out = join(dir, 'hamilton.mp4');
      const timeline = join(dir, 'hamilton.csv');
      const { code } = await runQuiet(video, [
        HAMILTON,
        '--out',
        out,
        '--timeline',
        timeline,
        '--every',
        '25',
        '--quiet',
      ]);
      expect(code).toBe(0);
      const src = probe(HAMILTON);
      const dst = probe(out);
      expect(Math.abs(dst.video!.frames - src.video!.frames)).toBeLessThanOrEqual(1);
      expect(Math.abs(dst.video!.duration - src.video!.duration)).toBeLessThanOrEqual(1 / src.video!.fps + 1e-3);
      expect(dst.audio).toBe(src.audio);
      const rows = readCsv(timeline);
      checkRows(rows, src.video!.frames, 25);
      expect(rows.length).toBeGreaterThan(0);
      const summary = JSON.parse(readFileSync(summaryPathFor(timeline), 'utf8')) as VideoSummary;
      expect(summary.frames).toBe(src.video!.frames);
      expect(summary.processedFrames).toBe(Math.ceil(src.video!.frames / 25));
      expect(summary.faces.reduce((s, f) => s + f.frames, 0)).toBe(rows.length);
    },
    300_000,
  );

  it('fails clearly on a missing input, a non-video, and a missing ffmpeg', async () => {
    await expect(video.run([join(dir, 'nope.mp4')])).rejects.toThrow(/no such file/);
    const text = join(dir, 'notes.mp4');
    writeFileSync(text, 'this is not a video\n'.repeat(20));
    await expect(video.run([text])).rejects.toThrow(/not a video/);
    await expect(video.run([PHOTO])).rejects.toThrow(/not a video/);
    const saved = process.env.FERKIT_FFPROBE;
    process.env.FERKIT_FFPROBE = join(dir, 'no-ffprobe-here');
    try {
      await expect(video.run([clip])).rejects.toThrow(/not found.*apt-get install ffmpeg/);
    } finally {
      if (saved === undefined) delete process.env.FERKIT_FFPROBE;
      else process.env.FERKIT_FFPROBE = saved;
    }
    process.env.FERKIT_FFMPEG = join(dir, 'no-ffmpeg-here');
    try {
      await expect(video.run([clip])).rejects.toThrow(/no-ffmpeg-here: not found/);
      await expect(camera.run(['--input', clip])).rejects.toThrow(/not found/);
    } finally {
      delete process.env.FERKIT_FFMPEG;
    }
    await expect(video.run([clip, '--every', '0'])).rejects.toThrow(/--every/);
  });
});

describe('latestFrames (live sources)', () => {
  it('hands a slow consumer only the newest frame and counts the dropped ones', async () => {
    async function* source(): AsyncGenerator<RawFrame> {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 5));
        yield { index: i, width: 1, height: 1, data: new Uint8Array(3) };
      }
    }
    const live = latestFrames(source());
    const seen: number[] = [];
    for await (const f of live) {
      seen.push(f.index);
      await new Promise((r) => setTimeout(r, 22)); // slower than the source
    }
    expect(seen.at(-1)).toBe(9);
    expect(seen.length).toBeLessThan(10);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(live.dropped + seen.length).toBe(10);
  });
});
