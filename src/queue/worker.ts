/**
 * A queue worker: BullMQ Worker whose processor runs the same Analyzer and writes the same result
 * records as `ferkit analyze` / `ferkit video`. Permanently bad inputs (corrupt, empty, too large,
 * missing) fail at once with their FerkitError code recorded; anything else is retried with
 * exponential backoff. Locks are renewed while a job runs; a worker killed outright stops renewing
 * them and another worker takes its jobs over as stalled after about `lockMs`.
 */
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  type Analyzer,
  type AnalyzerOptions,
  createAnalyzer,
  FerkitError,
  type FerkitErrorCode,
} from '../node/index.js';
import { toOutput } from '../pipeline/records.js';
import { redisClient, workerConnection } from './connection.js';
import { imageSource } from './inputs.js';
import { canonicalJson, type JobAnalysisOptions, type QueueJobData } from './jobs.js';
import { analyzeSegment, type SegmentResult, stitchSegments } from './segments.js';
import { QueueStore } from './store.js';

/** Codes that no retry can fix: the job fails on its first try. */
export const PERMANENT_ERRORS: ReadonlySet<FerkitErrorCode> = new Set([
  'E_NOT_FOUND',
  'E_EMPTY',
  'E_DECODE',
  'E_TOO_LARGE',
  'E_INPUT',
]);

export type JobOutcome = 'completed' | 'retried' | 'failed';

export interface QueueWorkerOptions {
  redisUrl: string;
  queueName: string;
  /** Jobs at once in this process (default 1). */
  concurrency?: number;
  /** Inference threads per ONNX session (default 1: scale with processes and machines instead). */
  threads?: number;
  /** Job lock in ms; a killed worker's jobs are taken over after about this long (default 30000). */
  lockMs?: number;
  /** Called after each job with its kind, outcome and seconds (metrics, logs). */
  onJob?(kind: QueueJobData['kind'], outcome: JobOutcome, seconds: number, error?: string): void;
  /** Connection trouble and other worker errors (default: ignored; ioredis reconnects). */
  onError?(e: Error): void;
}

export interface QueueWorker {
  readonly worker: Worker<QueueJobData>;
  /** The same queue as a producer/reader (counts for metrics and --exit-when-empty). */
  readonly queue: Queue;
  /** Jobs waiting, delayed, active or waiting for their segments, queue-wide. */
  pendingJobs(): Promise<number>;
  /** Finish the active jobs, then disconnect and free the analyzers. */
  close(): Promise<void>;
}

export function startQueueWorker(o: QueueWorkerOptions): QueueWorker {
  const connection = workerConnection(o.redisUrl);
  const redis = redisClient(connection);
  const store = new QueueStore(redis, o.queueName);
  const queue = new Queue(o.queueName, { connection });
  queue.on('error', (e) => o.onError?.(e));
  const analyzers = new Map<string, Promise<Analyzer>>();

  const analyzerFor = (options: JobAnalysisOptions): Promise<Analyzer> => {
    const id = canonicalJson(options);
    let a = analyzers.get(id);
    if (!a) {
      const full: AnalyzerOptions = { ...options, threads: o.threads ?? 1 };
      a = createAnalyzer(full);
      a.catch(() => analyzers.delete(id));
      analyzers.set(id, a);
    }
    return a;
  };

  async function process(job: Job<QueueJobData>): Promise<SegmentResult | null> {
    const d = job.data;
    switch (d.kind) {
      case 'image': {
        const analyzer = await analyzerFor(d.options);
        const t = performance.now();
        const image = await analyzer.decode(await imageSource(d.file));
        const result = await analyzer.analyzeImage(image, performance.now() - t);
        await store.putResult(d.key, toOutput(d.file, result, false));
        return null;
      }
      case 'segment':
        return analyzeSegment(await analyzerFor(d.options), d);
      case 'video': {
        const segments = Object.values(await job.getChildrenValues<SegmentResult>());
        // never stitch a timeline with a hole in it (retried, then failed with this message)
        if (segments.length !== d.video.segments)
          throw new Error(`${d.file}: ${segments.length} of ${d.video.segments} segment results found`);
        await store.putResult(d.key, stitchSegments(d, segments));
        return null;
      }
    }
  }

  const worker = new Worker<QueueJobData>(
    o.queueName,
    async (job) => {
      const t = performance.now();
      const seconds = () => (performance.now() - t) / 1000;
      try {
        const out = await process(job);
        o.onJob?.(job.data.kind, 'completed', seconds());
        return out;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const permanent = e instanceof FerkitError && PERMANENT_ERRORS.has(e.code);
        const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (permanent || lastTry)
          await store.putResult(job.data.key, {
            file: job.data.file,
            error: message,
            ...(e instanceof FerkitError ? { code: e.code } : {}),
          });
        o.onJob?.(job.data.kind, permanent || lastTry ? 'failed' : 'retried', seconds(), message);
        if (permanent) throw new UnrecoverableError(`${(e as FerkitError).code}: ${message}`);
        throw e;
      }
    },
    {
      connection,
      concurrency: o.concurrency ?? 1,
      lockDuration: o.lockMs ?? 30_000,
      stalledInterval: o.lockMs ?? 30_000,
      // a Redis restart can also look like a stall: allow a few before giving a job up
      maxStalledCount: 3,
    },
  );
  worker.on('error', (e) => o.onError?.(e));

  return {
    worker,
    queue,
    async pendingJobs() {
      const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'waiting-children', 'paused');
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    async close() {
      await worker.close();
      await queue.close();
      redis.disconnect();
      for (const a of analyzers.values()) await (await a.catch(() => undefined))?.dispose();
    },
  };
}
