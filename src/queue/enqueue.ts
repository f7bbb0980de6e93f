/**
 * `queue add`: hash each input, claim its key (known keys are skipped), and add one job per image
 * or, per video, a BullMQ flow: segment jobs (analysed in parallel by any workers) under a parent
 * that stitches them into one timeline when the last segment is done.
 */
import type { FlowJob, FlowProducer, Queue } from 'bullmq';
import { FerkitError } from '../node/index.js';
import { probeVideo } from '../video/ffmpeg.js';
import { contentSha256, isUrl, isVideoInput } from './inputs.js';
import {
  bullJobOptions,
  DEFAULT_RETRY,
  type ImageJob,
  type JobAnalysisOptions,
  type JobVideoOptions,
  jobIds,
  jobKey,
  type RetryPolicy,
  type SegmentJob,
  type VideoJob,
} from './jobs.js';
import type { QueueStore } from './store.js';

export interface AddOptions {
  analysis: JobAnalysisOptions;
  video: JobVideoOptions;
  /** Segment length in seconds (0: one segment per video). */
  segmentSeconds: number;
  retry?: RetryPolicy;
  /** Inputs hashed at once (default 16). */
  parallel?: number;
  onProgress?(done: number, total: number): void;
}

export interface Refused {
  file: string;
  error: string;
  code?: string;
}

export interface AddReport {
  /** Inputs given. */
  inputs: number;
  /** New inputs queued. */
  added: number;
  /** Inputs whose key (content + options) was already known: re-added or a copy under another name. */
  known: number;
  refused: Refused[];
  /** BullMQ jobs created (a video is its segments plus one stitch job). */
  jobs: number;
}

interface Hashed {
  file: string;
  key: string;
  video: boolean;
}

const refusal = (file: string, e: unknown): Refused => ({
  file,
  error: e instanceof Error ? e.message : String(e),
  ...(e instanceof FerkitError ? { code: e.code } : {}),
});

export async function addInputs(
  queue: Queue,
  flows: FlowProducer,
  store: QueueStore,
  files: readonly string[],
  o: AddOptions,
): Promise<AddReport> {
  const report: AddReport = { inputs: files.length, added: 0, known: 0, refused: [], jobs: 0 };
  const chunk = o.parallel ?? 16;
  const retry = o.retry ?? DEFAULT_RETRY;
  for (let start = 0; start < files.length; start += chunk) {
    // hashed in parallel, kept in input order (index within the chunk)
    const slots: (Hashed | undefined)[] = [];
    await Promise.all(
      files.slice(start, start + chunk).map(async (file, slot) => {
        try {
          const video = isVideoInput(file);
          if (video && isUrl(file))
            throw new FerkitError(
              'E_INPUT',
              `${file}: video URLs are not queued; download the video to the shared volume`,
            );
          const sha = await contentSha256(file);
          slots[slot] = { file, key: jobKey(sha, o.analysis, video ? o.video : undefined), video };
        } catch (e) {
          report.refused.push(refusal(file, e));
        }
      }),
    );
    const hashed = slots.filter((h): h is Hashed => h !== undefined);
    const fresh = await store.claim(hashed.map((h) => h.key));
    const images: Hashed[] = [];
    for (const [i, h] of hashed.entries()) {
      if (!fresh[i]) report.known++;
      else if (!h.video) images.push(h);
      else {
        try {
          report.jobs += await flows.add(await videoFlow(queue.name, h, o, retry)).then((n) => countJobs(n.job.data));
          report.added++;
        } catch (e) {
          await store.unclaim(h.key);
          report.refused.push(refusal(h.file, e));
        }
      }
    }
    if (images.length) {
      try {
        await queue.addBulk(
          images.map((h) => ({
            name: 'image',
            data: { kind: 'image', file: h.file, key: h.key, options: o.analysis } satisfies ImageJob,
            opts: bullJobOptions(jobIds.image(h.key), retry),
          })),
        );
      } catch (e) {
        for (const h of images) await store.unclaim(h.key);
        throw e;
      }
      report.added += images.length;
      report.jobs += images.length;
    }
    o.onProgress?.(Math.min(files.length, start + chunk), files.length);
  }
  return report;
}

const countJobs = (data: VideoJob): number => data.video.segments + 1;

/** Probe the video and build its flow: segments of `segmentSeconds` under one stitch job. */
async function videoFlow(queueName: string, h: Hashed, o: AddOptions, retry: RetryPolicy): Promise<FlowJob> {
  const info = await probeVideo(h.file);
  const geometry = { width: info.width, height: info.height, fps: info.fps, videoStart: info.videoStart };
  const perSegment = o.segmentSeconds > 0 ? Math.max(1, Math.round(o.segmentSeconds * info.fps)) : Infinity;
  const segments = Number.isFinite(perSegment) ? Math.max(1, Math.ceil(info.frames / perSegment)) : 1;
  const video = { ...o.video, ...geometry };
  const parent: VideoJob = {
    kind: 'video',
    file: h.file,
    key: h.key,
    options: o.analysis,
    video: { ...video, segments },
  };
  return {
    name: 'video',
    queueName,
    data: parent,
    opts: bullJobOptions(jobIds.video(h.key), retry),
    children: Array.from({ length: segments }, (_, index) => {
      const segment: SegmentJob = {
        kind: 'segment',
        file: h.file,
        key: h.key,
        options: o.analysis,
        video,
        index,
        startFrame: index * (Number.isFinite(perSegment) ? perSegment : 0),
        ...(index < segments - 1 ? { frames: perSegment } : {}),
      };
      return {
        name: 'segment',
        queueName,
        data: segment,
        // a segment that fails for good fails its video (whose record the segment has written)
        opts: { ...bullJobOptions(jobIds.segment(h.key, index), retry), failParentOnFailure: true },
      };
    }),
  };
}
