/**
 * The inference pool on piscina (worker threads), with WorkerPool's interface: for the side-by-side
 * measurement in BENCHMARKS.md ("Worker pool: hand-written vs piscina"), chosen with
 * FERKIT_POOL=piscina. The deadline is piscina's abort signal, which terminates the thread.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { packageRoot } from '../node/paths.js';
import {
  BusyError,
  ClosedError,
  DeadlineError,
  type PoolOptions,
  TaskError,
  type TaskResult,
  TimeoutError,
  WorkerCrashError,
} from './pool.js';
import type { AnalyzeTask, FromWorker, ModelInfo } from './protocol.js';

function script(): string {
  const sibling = fileURLToPath(new URL('./piscina-worker.js', import.meta.url));
  return existsSync(sibling) ? sibling : join(packageRoot(), 'dist', 'server', 'piscina-worker.js');
}

export class PiscinaPool {
  private readonly piscina: Piscina;
  private closing = false;
  private active = 0;
  private created = 0;
  private nextId = 1;
  info: ModelInfo | undefined;
  deadlineKills = 0;

  constructor(private readonly o: PoolOptions) {
    this.piscina = new Piscina({
      filename: script(),
      minThreads: o.size,
      maxThreads: o.size,
      maxQueue: o.queueLimit,
      concurrentTasksPerWorker: 1,
      idleTimeout: 2 ** 31 - 1,
      workerData: o.config,
    });
    this.piscina.on('workerCreate', () => this.created++);
  }

  async start(): Promise<void> {
    this.info = (await this.piscina.run({ info: true })) as ModelInfo;
  }
  get size(): number {
    return this.o.size;
  }
  get readyWorkers(): number {
    return this.piscina.threads.length;
  }
  get queueDepth(): number {
    return this.piscina.queueSize;
  }
  get inFlight(): number {
    return this.active - this.piscina.queueSize;
  }
  get queueLimit(): number {
    return this.o.queueLimit;
  }
  get restarts(): number {
    return Math.max(0, this.created - this.o.size);
  }
  retryAfterSeconds(): number {
    return 1;
  }

  async run(task: AnalyzeTask, timeoutMs: number): Promise<TaskResult> {
    if (this.closing) throw new ClosedError();
    const deadline = this.o.deadlineMs ?? 15_000;
    // piscina starts the signal's clock at submission, not when a thread takes the task
    const signal = deadline > 0 ? AbortSignal.timeout(deadline) : undefined;
    const bytes = new Uint8Array(task.bytes);
    this.active++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = this.piscina.run(
        { id: this.nextId++, task: { ...task, bytes } },
        { signal, transferList: [bytes.buffer as ArrayBuffer] },
      ) as Promise<Extract<FromWorker, { type: 'result' | 'error' }>>;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(timeoutMs)), timeoutMs);
      });
      const m = await Promise.race([work, timeout]).catch((e: Error) => {
        if (e instanceof TimeoutError) throw e;
        if (/queue is at limit/i.test(e.message)) throw new BusyError(1);
        if (signal?.aborted) {
          this.deadlineKills++;
          throw new DeadlineError(deadline);
        }
        throw new WorkerCrashError(e.message);
      });
      if (m.type === 'error') throw new TaskError(m.code, m.message);
      return { result: m.result, image: m.image };
    } finally {
      clearTimeout(timer);
      this.active--;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.piscina.close();
  }
}
