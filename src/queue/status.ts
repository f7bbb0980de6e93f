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
  /** Inputs finished per second over the last three minutes. */
  inputsPerSecond: number;
  /** Seconds until the pending inputs are done at that rate; null when nothing finished lately. */
  etaSeconds: number | null;
}

export async function queueStatus(queue: Queue, store: QueueStore): Promise<QueueStatus> {
  const [c, counts, inputsPerSecond] = await Promise.all([
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
    store.inputsPerSecond(),
  ]);
  const waiting = c.waiting + c.prioritized + c.paused;
  const pending = counts.inputs - counts.finished;
  return {
    queue: queue.name,
    inputs: {
      total: counts.inputs,
      finished: counts.finished,
      ok: counts.ok,
      failed: counts.failed,
      pending,
    },
    jobs: {
      waiting,
      active: c.active,
      delayed: c.delayed,
      waitingChildren: c['waiting-children'],
      completed: c.completed,
      failed: c.failed,
    },
    inputsPerSecond,
    etaSeconds: pending === 0 ? 0 : inputsPerSecond > 0 ? pending / inputsPerSecond : null,
  };
}
