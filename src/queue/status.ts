/** `queue status`: inputs and BullMQ job counts, recent throughput and an ETA. */
import type { Queue } from 'bullmq';
import type { QueueStore } from './store.js';

export interface QueueStatus {
  queue: string;
  /** Inputs ever added; finished = with a record (ok + failed); pending = the rest. */
  inputs: { total: number; finished: number; ok: number; failed: number; pending: number };
  /** BullMQ jobs by state (a video is its segments plus its stitch job, waiting-children meanwhile). */
  jobs: {
    waiting: number;
    active: number;
    delayed: number;
    waitingChildren: number;
    completed: number;
    failed: number;
  };
  /** Jobs completed per second over the last few minutes (BullMQ's per-minute metrics). */
  jobsPerSecond: number;
  /** Seconds until the jobs still to run are done at that rate; null when nothing is running. */
  etaSeconds: number | null;
}

const METRIC_MINUTES = 3;

export async function queueStatus(queue: Queue, store: QueueStore): Promise<QueueStatus> {
  const [c, counts, metrics] = await Promise.all([
    queue.getJobCounts(
      'waiting',
      'prioritized',
      'paused',
      'active',
      'delayed',
      'waiting-children',
      'completed',
      'failed',
    ),
    store.counts(),
    queue.getMetrics('completed', 0, METRIC_MINUTES),
  ]);
  // the newest minute is still filling: rate over the full minutes before it plus its share so far
  const perMinute = metrics.data.slice(0, METRIC_MINUTES);
  const elapsedInMinute = (Date.now() % 60_000) / 1000;
  const seconds = Math.max(1, (perMinute.length - 1) * 60 + elapsedInMinute);
  const recent = perMinute.reduce((a, b) => a + b, 0);
  const jobsPerSecond = recent / seconds;
  const waiting = c.waiting + c.prioritized + c.paused;
  const toRun = waiting + c.active + c.delayed;
  return {
    queue: queue.name,
    inputs: {
      total: counts.inputs,
      finished: counts.finished,
      ok: counts.ok,
      failed: counts.failed,
      pending: counts.inputs - counts.finished,
    },
    jobs: {
      waiting,
      active: c.active,
      delayed: c.delayed,
      waitingChildren: c['waiting-children'],
      completed: c.completed,
      failed: c.failed,
    },
    jobsPerSecond,
    etaSeconds: toRun === 0 ? 0 : jobsPerSecond > 0 ? toRun / jobsPerSecond : null,
  };
}
