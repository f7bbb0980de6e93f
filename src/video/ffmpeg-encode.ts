/** Re-encoding raw rgb24 frames with Debian's ffmpeg (H.264, yuv420p), keeping the original's audio. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { FerkitError } from '../errors.js';
import { ffmpegPath, missingBinary } from './ffmpeg.js';

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
    ...(o.audioFrom ? ['-i', o.audioFrom] : []),
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
