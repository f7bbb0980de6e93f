/**
 * Debian's `ffmpeg`/`ffprobe` as subprocesses: probe a video, decode it to raw rgb24 frames on a
 * pipe, and re-encode raw frames (H.264, yuv420p) while keeping the original's audio.
 * No ffmpeg binary comes from npm; FERKIT_FFMPEG / FERKIT_FFPROBE override the executables.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { FerkitError } from '../errors.js';
export const ffmpegPath = (): string => process.env.FERKIT_FFMPEG || 'ffmpeg';
export const ffprobePath = (): string => process.env.FERKIT_FFPROBE || 'ffprobe';

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second as a number (e.g. 29.97). */
  fps: number;
  /** The frame rate as ffmpeg writes it (e.g. "2997/100"), for a lossless round trip. */
  fpsRational: string;
  /** Frames in the video stream (from the container, counted when the container does not say). */
  frames: number;
  /** Duration of the video stream in seconds. */
  duration: number;
  /** Start time of the video stream relative to the container's start, seconds. */
  videoStart: number;
  hasAudio: boolean;
  audioCodec?: string;
  videoCodec: string;
  /** Display rotation in degrees (ffmpeg applies it when decoding). */
  rotation: number;
  formatName: string;
}

export function missingBinary(bin: string, cause: unknown): FerkitError {
  return new FerkitError(
    'E_NOT_FOUND',
    `${bin}: not found — install Debian's ffmpeg (apt-get install ffmpeg) or set ${bin.includes('probe') ? 'FERKIT_FFPROBE' : 'FERKIT_FFMPEG'} to its path`,
    { cause },
  );
}

/** Run a command to completion, collecting stdout/stderr (bounded). */
function run(
  bin: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      reject(missingBinary(bin, e));
      return;
    }
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 64_000) err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? missingBinary(bin, e) : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
  });
}

const num = (v: unknown): number => (v === undefined || v === null || v === '' || v === 'N/A' ? NaN : Number(v));

export function parseRational(r: string | undefined): number {
  if (!r) return NaN;
  const [a, b] = r.split('/').map(Number);
  return b === undefined ? a : b ? a / b : NaN;
}

/** ffprobe a file: size, fps, frame count, duration, audio. Clear errors for a missing file or a non-video. */
export async function probeVideo(path: string): Promise<VideoInfo> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new FerkitError('E_INPUT', `${path}: not a file`);
    if (s.size === 0) throw new FerkitError('E_EMPTY', `${path}: file is empty (0 bytes)`);
  } catch (e) {
    if (e instanceof FerkitError) throw e;
    throw new FerkitError('E_NOT_FOUND', `${path}: no such file`, { cause: e });
  }
  const bin = ffprobePath();
  const { code, stdout, stderr } = await run(bin, [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    path,
  ]);
  if (code !== 0)
    throw new FerkitError(
      'E_DECODE',
      `${path}: not a video ffprobe can read (${stderr.trim().split('\n').pop() ?? `exit ${code}`})`,
    );
  // biome-ignore lint/suspicious/noExplicitAny: ffprobe JSON
  const json = JSON.parse(stdout) as { streams?: any[]; format?: any };
  const streams = json.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const a = streams.find((s) => s.codec_type === 'audio');
  const format = json.format ?? {};
  // A still image is a "video" with one frame to ffprobe; refuse image formats explicitly.
  const imageFormat = /image2|_pipe$|png|jpeg|webp|gif|bmp|tiff/.test(String(format.format_name ?? ''));
  if (!v || imageFormat)
    throw new FerkitError(
      'E_DECODE',
      `${path}: not a video (no video stream${imageFormat ? `; ${format.format_name} is an image format` : ''})`,
    );
  let fpsRational = v.r_frame_rate as string;
  let fps = parseRational(fpsRational);
  const avg = parseRational(v.avg_frame_rate);
  // r_frame_rate can be a field rate or a timebase guess; prefer avg_frame_rate when they disagree a lot.
  if (!(fps > 0 && fps < 1000) || (avg > 0 && Math.abs(fps - avg) / avg > 0.05)) {
    fpsRational = v.avg_frame_rate;
    fps = avg;
  }
  if (!(fps > 0)) throw new FerkitError('E_DECODE', `${path}: cannot tell the video's frame rate`);
  let duration = num(v.duration);
  if (!(duration > 0)) duration = num(format.duration);
  let frames = num(v.nb_frames);
  if (!(frames > 0)) frames = await countFrames(path).catch(() => Math.round(duration * fps));
  if (!(duration > 0)) duration = frames / fps;
  const rotation =
    Number(
      v.side_data_list?.find((d: { rotation?: number }) => d.rotation !== undefined)?.rotation ?? v.tags?.rotate ?? 0,
    ) || 0;
  let width = Number(v.width);
  let height = Number(v.height);
  if (Math.abs(rotation) % 180 === 90) [width, height] = [height, width];
  if (!(width > 0 && height > 0)) throw new FerkitError('E_DECODE', `${path}: video stream has no size`);
  const start = num(v.start_time);
  const formatStart = num(format.start_time);
  return {
    width,
    height,
    fps,
    fpsRational,
    frames,
    duration,
    videoStart: start > 0 ? Math.max(0, start - Math.max(0, formatStart || 0)) : 0,
    hasAudio: Boolean(a),
    audioCodec: a?.codec_name,
    videoCodec: v.codec_name,
    rotation,
    formatName: String(format.format_name ?? ''),
  };
}

/** Exact frame count by decoding (for containers that do not store it). */
export async function countFrames(path: string): Promise<number> {
  const { code, stdout } = await run(ffprobePath(), [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-count_frames',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    path,
  ]);
  const n = Number(stdout.trim().split(/[\n,]/)[0]);
  if (code !== 0 || !(n > 0)) throw new Error('cannot count frames');
  return n;
}

export interface RawFrame {
  /** 0-based index in decode order. */
  index: number;
  width: number;
  height: number;
  /** rgb24, width*height*3 bytes; owned by the consumer. */
  data: Uint8Array;
}

export interface DecodeSource {
  /** A file path, or a V4L2 device when `format` is 'v4l2'. */
  input: string;
  width: number;
  height: number;
  /** ffmpeg input format (-f), e.g. 'v4l2'. */
  format?: string;
  /** Input options placed before -i (e.g. ['-framerate', '30', '-video_size', '640x480']). */
  inputArgs?: string[];
  /** Output frame rate (an fps filter); default: every decoded frame, untouched. */
  fps?: number;
  /** Read the input at its native rate (-re), as a live source would deliver it. */
  realtime?: boolean;
}

export interface FrameDecoder extends AsyncIterable<RawFrame> {
  /** Stop decoding early (kills ffmpeg). */
  stop(): void;
  /** Resolves when ffmpeg has exited; rejects with its error output if it failed. */
  readonly done: Promise<void>;
}

/**
 * Decode a video (or a camera) into rgb24 frames of exactly width×height (a scale filter guards
 * against surprises such as odd rotations). Frames come in decode order with no dropping or
 * duplication (-fps_mode passthrough) unless `fps` asks for a fixed rate.
 */
export function decodeFrames(src: DecodeSource): FrameDecoder {
  const { width, height } = src;
  const frameBytes = width * height * 3;
  const filters = [`scale=${width}:${height}:flags=bicubic`];
  if (src.fps) filters.unshift(`fps=${src.fps}`);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    ...(src.realtime ? ['-re'] : []),
    ...(src.format ? ['-f', src.format] : []),
    ...(src.inputArgs ?? []),
    '-i',
    src.input,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-vf',
    filters.join(','),
    ...(src.fps ? [] : ['-fps_mode', 'passthrough']),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const bin = ffmpegPath();
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 16_000) stderr += d.toString();
  });
  let stopped = false;
  let spawnError: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? missingBinary(bin, e) : e;
      reject(spawnError);
    });
    child.on('close', (code, signal) => {
      if (code === 0 || stopped) resolve();
      else
        reject(
          new FerkitError(
            'E_DECODE',
            `${src.input}: ffmpeg failed (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
          ),
        );
    });
  });
  done.catch(() => {}); // observed by the iterator or the caller

  async function* frames(): AsyncGenerator<RawFrame> {
    let buf = new Uint8Array(frameBytes);
    let filled = 0;
    let index = 0;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - off);
          buf.set(chunk.subarray(off, off + n), filled);
          filled += n;
          off += n;
          if (filled === frameBytes) {
            yield { index: index++, width, height, data: buf };
            buf = new Uint8Array(frameBytes);
            filled = 0;
          }
        }
      }
      await done;
      if (spawnError) throw spawnError;
    } finally {
      if (child.exitCode === null && !child.killed) {
        stopped = true;
        child.kill('SIGKILL');
      }
    }
  }

  return {
    [Symbol.asyncIterator]: frames,
    stop() {
      stopped = true;
      if (child.exitCode === null) child.kill('SIGKILL');
    },
    done,
  };
}

/** Fail early, with the install hint, when ffmpeg cannot be run. */
export async function requireFfmpeg(): Promise<void> {
  const bin = ffmpegPath();
  const r = await run(bin, ['-hide_banner', '-version'], 10_000);
  if (r.code !== 0) throw missingBinary(bin, new Error(r.stderr));
}
