/** Live sources: always hand the newest frame to a consumer that may be slower than the source. */
import { rename, writeFile } from 'node:fs/promises';
import type { RawFrame } from './ffmpeg.js';

export interface LatestFrames extends AsyncIterable<RawFrame> {
  /** Frames the source delivered that were never handed out (the consumer was busy). */
  readonly dropped: number;
}

/**
 * Reads `source` continuously in the background and yields only the newest frame each time the
 * consumer asks, so latency never builds up behind a slow analyser (frames in between are dropped).
 */
export function latestFrames(source: AsyncIterable<RawFrame>): LatestFrames {
  let latest: RawFrame | undefined;
  let ended = false;
  let error: unknown;
  let wake: (() => void) | undefined;
  let dropped = 0;
  const pump = (async () => {
    try {
      for await (const f of source) {
        if (latest) dropped++;
        latest = f;
        wake?.();
      }
    } catch (e) {
      error = e;
    } finally {
      ended = true;
      wake?.();
    }
  })();
  return {
    get dropped() {
      return dropped;
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (!latest && !ended) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (latest) {
          const f = latest;
          latest = undefined;
          yield f;
          continue;
        }
        if (ended) break;
      }
      await pump;
      if (error) throw error;
    },
  };
}

/** Writes a file atomically (temp + rename) so a viewer polling it never sees half an image. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
