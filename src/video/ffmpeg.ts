/**
 * Debian's `ffmpeg`/`ffprobe` as subprocesses: probe a video, decode it to raw rgb24 frames on a
 * pipe, and re-encode raw frames (H.264, yuv420p) while keeping the original's audio.
 * No ffmpeg binary comes from npm; FERKIT_FFMPEG / FERKIT_FFPROBE override the executables.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { FerkitError } from '../errors.js';
import { DEFAULT_MAX_VIDEO_FRAMES, untrustedInputArgs } from './input-limits.js';
import { ffmpegPath, missingBinary, run } from './tools.js';

export { countFrames, parseRational, probeVideo, type VideoInfo } from './probe.js';
export { ffmpegPath, ffprobePath } from './tools.js';

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
  /** Stop after this many frames (files only; default DEFAULT_MAX_VIDEO_FRAMES, whatever the header claims). */
  maxFrames?: number;
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
    // a file is untrusted input; a device (-f v4l2) is not a file ffmpeg probes
    ...(src.format ? [] : untrustedInputArgs()),
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
    ...(src.format ? [] : ['-frames:v', String(src.maxFrames ?? DEFAULT_MAX_VIDEO_FRAMES)]),
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

export interface EncoderOptions {
  width: number;
  height: number;
  /** Frame rate as ffmpeg reads it ("30000/1001", "25"). */
  fps: string;
  /** Copy the audio stream of this file into the output. */
  audioFrom?: string;
  audioCodec?: string;
  /** Delay the video by this many seconds (to keep the original's A/V offset). */
  videoOffset?: number;
  /** x264 constant rate factor (default 20) and preset (default veryfast). */
  crf?: number;
  preset?: string;
}

export interface FrameEncoder {
  /** Write one rgb24 frame; resolves when the pipe can take more (backpressure). */
  write(frame: Uint8Array): Promise<void>;
  /** Close the input and wait for ffmpeg to finish the file. */
  finish(): Promise<void>;
  /** Abort: kill ffmpeg. */
  abort(): void;
}

/** Codecs an MP4/MOV/MKV can carry as-is; anything else is re-encoded to AAC. */
const COPYABLE_AUDIO = new Set(['aac', 'mp3', 'ac3', 'eac3', 'opus', 'alac', 'flac']);

/** H.264 (libx264, yuv420p) from raw rgb24 frames on stdin, muxed with the original's audio. */
export function encodeFrames(out: string, o: EncoderOptions): FrameEncoder {
  const mp4 = /\.(mp4|m4v|mov)$/i.test(out);
  const audioArgs = o.audioFrom
    ? [
        '-map',
        '1:a:0?',
        '-c:a',
        o.audioCodec && COPYABLE_AUDIO.has(o.audioCodec) && !(mp4 && o.audioCodec === 'flac') ? 'copy' : 'aac',
      ]
    : [];
  const args = [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-y',
    ...(o.videoOffset ? ['-itsoffset', o.videoOffset.toFixed(6)] : []),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${o.width}x${o.height}`,
    '-framerate',
    o.fps,
    '-i',
    'pipe:0',
    ...(o.audioFrom ? [...untrustedInputArgs(), '-i', o.audioFrom] : []),
    '-map',
    '0:v:0',
    ...audioArgs,
    '-c:v',
    'libx264',
    '-preset',
    o.preset ?? 'veryfast',
    '-crf',
    String(o.crf ?? 20),
    '-pix_fmt',
    'yuv420p',
    // one output frame per input frame, timestamps kept (an -itsoffset must not be filled with duplicates)
    '-fps_mode',
    'passthrough',
    // yuv420p needs even sizes
    ...(o.width % 2 || o.height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []),
    ...(mp4 ? ['-movflags', '+faststart'] : []),
    out,
  ];
  const bin = ffmpegPath();
  const child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'] }) as ChildProcessByStdio<
    Writable,
    null,
    Readable
  >;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 16_000) stderr += d.toString();
  });
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure = e.code === 'ENOENT' ? missingBinary(bin, e) : e;
      reject(failure);
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        failure ??= new Error(
          `ffmpeg encoder failed (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
        );
        reject(failure);
      }
    });
  });
  exited.catch(() => {});
  child.stdin.on('error', () => {}); // EPIPE surfaces through `exited`
  const expected = o.width * o.height * 3;

  return {
    async write(frame) {
      if (failure) throw failure;
      if (frame.length !== expected)
        throw new FerkitError('E_INPUT', `encoder: frame of ${frame.length} bytes, expected ${expected}`);
      if (!child.stdin.write(frame)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            child.off('close', onClose);
            resolve();
          };
          const onClose = () => {
            child.stdin.off('drain', onDrain);
            reject(failure ?? new Error('ffmpeg encoder exited early'));
          };
          child.stdin.once('drain', onDrain);
          child.once('close', onClose);
        });
      }
    },
    async finish() {
      child.stdin.end();
      await exited;
    },
    abort() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Fail early, with the install hint, when ffmpeg cannot be run. */
export async function requireFfmpeg(): Promise<void> {
  const bin = ffmpegPath();
  const r = await run(bin, ['-hide_banner', '-version'], 10_000);
  if (r.code !== 0) throw missingBinary(bin, new Error(r.stderr));
}
