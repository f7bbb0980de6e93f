/**
 * ffprobe on an untrusted video file: streams, frame rate, frame count, duration, audio, within
 * the limits of input-limits.ts.
 */
import { stat } from 'node:fs/promises';
import { FerkitError } from '../errors.js';
import {
  checkVideoLimits,
  PROBE_TIMEOUT_MS,
  unsupportedContainer,
  untrustedInputArgs,
  type VideoLimits,
} from './input-limits.js';
import { ffprobePath, run } from './tools.js';

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

const num = (v: unknown): number => (v === undefined || v === null || v === '' || v === 'N/A' ? NaN : Number(v));

export function parseRational(r: string | undefined): number {
  if (!r) return NaN;
  const [a, b] = r.split('/').map(Number);
  return b === undefined ? a : b ? a / b : NaN;
}

/**
 * ffprobe a file: size, fps, frame count, duration, audio. Clear errors for a missing file, a
 * non-video, a container off the allowlist (video/input-limits.ts) and a video over the limits.
 */
export async function probeVideo(path: string, limits: VideoLimits = {}): Promise<VideoInfo> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new FerkitError('E_INPUT', `${path}: not a file`);
    if (s.size === 0) throw new FerkitError('E_EMPTY', `${path}: file is empty (0 bytes)`);
  } catch (e) {
    if (e instanceof FerkitError) throw e;
    throw new FerkitError('E_NOT_FOUND', `${path}: no such file`, { cause: e });
  }
  const bin = ffprobePath();
  const { code, stdout, stderr } = await run(
    bin,
    ['-v', 'error', ...untrustedInputArgs(), '-print_format', 'json', '-show_format', '-show_streams', path],
    PROBE_TIMEOUT_MS,
  );
  if (code === null)
    throw new FerkitError('E_DECODE', `${path}: ffprobe took over ${PROBE_TIMEOUT_MS / 1000} s and was stopped`);
  if (code !== 0)
    throw (
      unsupportedContainer(path, stderr) ??
      new FerkitError(
        'E_DECODE',
        `${path}: not a video ffprobe can read (${stderr.trim().split('\n').pop() ?? `exit ${code}`})`,
      )
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
  checkVideoLimits(path, { width, height, frames }, limits);
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

/**
 * Frame count of a container that does not store it, by counting the video stream's packets
 * (demuxing only: one packet a frame for the accepted codecs, and no decoding work).
 */
export async function countFrames(path: string): Promise<number> {
  const { code, stdout } = await run(
    ffprobePath(),
    [
      '-v',
      'error',
      ...untrustedInputArgs(),
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=nb_read_packets',
      '-of',
      'csv=p=0',
      path,
    ],
    PROBE_TIMEOUT_MS,
  );
  const n = Number(stdout.trim().split(/[\n,]/)[0]);
  if (code !== 0 || !(n > 0)) throw new Error('cannot count frames');
  return n;
}
