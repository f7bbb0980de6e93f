/**
 * What ffmpeg/ffprobe may do with an untrusted video file. A video file can be a playlist or a
 * concat script that makes ffmpeg open other files or URLs (HLS, concat, image2 patterns…), and a
 * small file can claim, or really hold, hours of frames. So: only the demuxers of ordinary video
 * containers, only the `file` protocol, bounded probing, a wall-clock limit on ffprobe, and limits
 * on frame size and frame count checked against the probe and enforced on the decoder (-frames:v).
 */
import { FerkitError } from '../errors.js';

/** Demuxers (ffmpeg -format_whitelist names) of the accepted containers. */
export const VIDEO_DEMUXERS: Readonly<Record<string, string>> = {
  mov: 'MP4 / MOV / M4V / 3GP',
  matroska: 'Matroska / WebM',
  avi: 'AVI',
  mpegts: 'MPEG-TS',
  mpeg: 'MPEG-PS',
  ogg: 'Ogg (Theora)',
  flv: 'FLV',
};

/** 40 MP a frame, as for still images (8K UHD is 33 MP). */
export const DEFAULT_MAX_FRAME_PIXELS = 40_000_000;
/** 216,000 frames: two hours at 30 fps. */
export const DEFAULT_MAX_VIDEO_FRAMES = 216_000;
/** Bytes and microseconds ffprobe/ffmpeg may read to identify the streams (ffmpeg's defaults, stated). */
export const PROBE_SIZE = 5_000_000;
export const ANALYZE_DURATION_US = 5_000_000;
/** Wall-clock limit on one ffprobe run (probing, or counting packets of a container without a frame count). */
export const PROBE_TIMEOUT_MS = 30_000;

export interface VideoLimits {
  maxFramePixels?: number;
  maxFrames?: number;
}

/** Input options placed before `-i FILE` on every ffmpeg/ffprobe run that opens an untrusted file. */
export function untrustedInputArgs(): string[] {
  return [
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    Object.keys(VIDEO_DEMUXERS).join(','),
    '-probesize',
    String(PROBE_SIZE),
    '-analyzeduration',
    String(ANALYZE_DURATION_US),
  ];
}

/** ffmpeg's refusal of a container that is not on the allowlist, as a clear E_DECODE naming it. */
export function unsupportedContainer(path: string, stderr: string): FerkitError | undefined {
  const m = /\[(\w+) @ [^\]]*\] Format not on whitelist/.exec(stderr);
  if (!m) return undefined;
  return new FerkitError(
    'E_DECODE',
    `${path}: unsupported video format ${m[1]}: not a video in an accepted container (${Object.values(VIDEO_DEMUXERS).join(', ')})`,
  );
}

/** Refuse a probed video over the frame-size or frame-count limit (E_TOO_LARGE). */
export function checkVideoLimits(
  path: string,
  info: { width: number; height: number; frames: number },
  limits: VideoLimits = {},
): void {
  const maxPixels = limits.maxFramePixels ?? DEFAULT_MAX_FRAME_PIXELS;
  const maxFrames = limits.maxFrames ?? DEFAULT_MAX_VIDEO_FRAMES;
  if (info.width * info.height > maxPixels)
    throw new FerkitError(
      'E_TOO_LARGE',
      `${path}: ${info.width}x${info.height} frames are over the limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
    );
  if (info.frames > maxFrames)
    throw new FerkitError('E_TOO_LARGE', `${path}: ${info.frames} frames is over the limit of ${maxFrames}`);
}
