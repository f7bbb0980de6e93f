/**
 * Hostile video files through ffprobe/ffmpeg and `ferkit video` (issue 19): damaged frames in the
 * middle of an MP4 are decoded as far as they go (or fail with a clear error), never a crash or a
 * hang; a truncated file, a playlist that would make ffmpeg read other files, and image formats
 * are refused by name; the frame limits hold whatever the header says.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames, probeVideo } from '../src/video/ffmpeg.js';
import { FUZZ_SEED, fuzzCount, PHOTO, rng } from './helpers/fuzz-inputs.js';

const CLI = resolve('dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'ferkit-fuzz-video-'));
const clip = join(dir, 'clip.mp4');
const FRAMES = 20;

/** `ferkit video FILE --timeline …` as a child process: its exit, signal, output and time. */
async function ferkitVideo(file: string) {
  const timeline = `${file}.csv`;
  const t = performance.now();
  const r = await promisify(execFile)(process.execPath, [CLI, 'video', file, '--timeline', timeline, '--quiet'], {
    timeout: 120_000,
  }).then(
    (ok) => ({ code: 0, signal: null as string | null, stderr: ok.stderr }),
    (e) => ({ code: e.code as number, signal: e.signal as string | null, stderr: String(e.stderr) }),
  );
  const rows = existsSync(timeline) ? readFileSync(timeline, 'utf8').trim().split('\n').length - 1 : 0;
  return { ...r, rows, ms: performance.now() - t };
}

beforeAll(() => {
  // a 2 s clip of the demo photo slowly zoomed, a keyframe every 5 frames, index (moov) up front
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-loop', '1', '-i', resolve(PHOTO)],
    ...['-vf', "scale=320:-2,zoompan=z='1+0.01*on':d=1:s=320x212:fps=10", '-frames:v', String(FRAMES)],
    ...['-c:v', 'libx264', '-g', '5', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', clip],
  ]);
});

describe.skipIf(!existsSync(CLI))('hostile video files', () => {
  it(`MP4s with random bytes overwritten in the middle (${fuzzCount(3)} seeded): frames decoded as far as they go, or a clear error; never a crash`, async () => {
    const original = readFileSync(clip);
    const rand = rng(FUZZ_SEED);
    for (let k = 0; k < fuzzCount(3); k++) {
      const damaged = Buffer.from(original);
      // 1% of the bytes between 30% and 70% of the file: inside the frames, the index intact
      const from = Math.floor(damaged.length * 0.3);
      const span = Math.floor(damaged.length * 0.4);
      for (let i = 0; i < damaged.length / 100; i++)
        damaged[from + Math.floor(rand() * span)] = Math.floor(rand() * 256);
      const file = join(dir, `damaged-${k}.mp4`);
      writeFileSync(file, damaged);
      const r = await ferkitVideo(file);
      console.log(
        `damaged-${k}.mp4: exit ${r.code}, ${r.rows} timeline rows, ${r.ms.toFixed(0)} ms ${r.stderr.trim()}`,
      );
      expect(r.signal).toBeNull();
      if (r.code === 0) expect(r.rows).toBeGreaterThan(0);
      else expect([r.code, r.stderr]).toEqual([1, expect.stringContaining(`damaged-${k}.mp4`)]);
    }
  }, 300_000);

  it('a truncated MP4 (index at the end, cut at 20 KB) → a clear E_DECODE, no output', async () => {
    const noFaststart = join(dir, 'tail-index.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-c', 'copy', noFaststart]);
    const cut = join(dir, 'cut.mp4');
    writeFileSync(cut, readFileSync(noFaststart).subarray(0, 20_000));
    const r = await ferkitVideo(cut);
    expect([r.code, r.signal]).toEqual([1, null]);
    expect(r.stderr).toMatch(/cut\.mp4: not a video ffprobe can read/);
  });

  it('an HLS playlist named .avi that would read /etc/hostname, and a GIF named .mp4 → unsupported video format', async () => {
    const playlist = join(dir, 'playlist.avi');
    writeFileSync(playlist, '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n');
    await expect(probeVideo(playlist)).rejects.toMatchObject({
      code: 'E_DECODE',
      message: expect.stringContaining('unsupported video format hls'),
    });
    const gif = join(dir, 'anim.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-f', 'gif', gif]);
    const r = await ferkitVideo(gif);
    expect([r.code, r.signal]).toEqual([1, null]);
    expect(r.stderr).toContain('unsupported video format gif');
  });

  it('frame limits: refused from the probe over maxFrames / maxFramePixels; the decoder stops at maxFrames whatever the header says', async () => {
    const info = await probeVideo(clip);
    expect(info.frames).toBe(FRAMES);
    await expect(probeVideo(clip, { maxFrames: FRAMES - 1 })).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    await expect(probeVideo(clip, { maxFramePixels: 320 * 100 })).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    const decoder = decodeFrames({ input: clip, width: info.width, height: info.height, maxFrames: 7 });
    let n = 0;
    for await (const _ of decoder) n++;
    await decoder.done;
    expect(n).toBe(7);
  });
});
