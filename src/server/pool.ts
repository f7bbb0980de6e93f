/**
 * A pool of inference worker processes with a bounded queue:
 *  - each worker holds its own analyzer (threads=1), so N workers use N cores;
 *  - workers are child processes, not worker threads, because the deadline must be able to stop
 *    one at any point: terminating a worker *thread* while onnxruntime-node is inside a model call
 *    aborts the whole server ("terminate called after throwing an instance of 'Napi::Error'",
 *    reproduced in BENCHMARKS.md), while SIGKILL on a process is always safe;
 *  - a task waits in a FIFO of at most `queueLimit`; beyond that `run` throws BusyError (→ 503);
 *  - a task past its request deadline rejects with TimeoutError (→ 504) while the worker may finish it;
 *  - a task that holds a worker longer than `deadlineMs` (the enforced limit on work per input) is
 *    failed with DeadlineError (→ 504), and its worker is terminated and replaced, so one
 *    pathological input cannot hold a core;
 *  - a worker that dies (crash, exit) fails its task with WorkerCrashError (→ 500) and is replaced.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../node/paths.js';
import type { AnalysisResult } from '../pipeline/types.js';
import type { AnalyzeTask, FromWorker, ModelInfo, WorkerConfig } from './protocol.js';

export class BusyError extends Error {
  readonly code = 'E_BUSY';
  constructor(readonly retryAfterS: number) {
    super('server busy: the queue is full, retry later');
  }
}
export class TimeoutError extends Error {
  readonly code = 'E_TIMEOUT';
  constructor(ms: number) {
    super(`analysis did not finish within ${ms} ms`);
  }
}
/** A task stopped at the pool's deadline on worker time: its worker was terminated and replaced. */
export class DeadlineError extends Error {
  readonly code = 'E_TIMEOUT';
  constructor(ms: number) {
    super(`analysis stopped: it ran past the server's limit of ${ms} ms per request (the worker was replaced)`);
  }
}
export class WorkerCrashError extends Error {
  readonly code = 'E_WORKER';
  constructor(detail: string) {
    super(`inference worker failed: ${detail}`);
  }
}
export class ClosedError extends Error {
  readonly code = 'E_CLOSED';
  constructor() {
    super('server is shutting down');
  }
}
/** A task error reported by the worker (decode errors, size limits…), with the library's code. */
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TaskResult {
  result: AnalysisResult;
  image?: Uint8Array;
}

export interface PoolOptions {
  size: number;
  queueLimit: number;
  config: WorkerConfig;
  /**
   * Longest time one task may hold a worker (wall clock from when the worker takes it, which on a
   * worker with one thread is its CPU time unless the machine is oversubscribed). Past it the task
   * fails with DeadlineError and the worker is terminated and replaced. Default 15 s; 0 = none.
   */
  deadlineMs?: number;
  /** Worker script path (default: dist/server/worker.js beside this module). */
  script?: string;
}

interface Pending {
  id: number;
  task: AnalyzeTask;
  resolve(r: TaskResult): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
  settled: boolean;
  enqueued: number;
  started?: number;
}

interface Slot {
  worker: ChildProcess;
  ready: boolean;
  current?: Pending;
  deadlineTimer?: NodeJS.Timeout;
  retired?: boolean;
  /** Resident memory of the worker process, as of its last message. */
  rss?: number;
}

function defaultScript(): string {
  const sibling = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  // running from src/ (vitest): use the compiled worker
  return join(packageRoot(), 'dist', 'server', 'worker.js');
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closing = false;
  private serviceMsEma = 500;
  private restartDelay = 250;
  info: ModelInfo | undefined;
  restarts = 0;
  crashes = 0;
  completed = 0;
  rejectedBusy = 0;
  timedOut = 0;
  /** Workers terminated because a task ran past `deadlineMs`. */
  deadlineKills = 0;
  private readonly script: string;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly o: PoolOptions) {
    if (!(o.size >= 1)) throw new RangeError('pool size must be ≥ 1');
    if (!(o.queueLimit >= 0)) throw new RangeError('queue limit must be ≥ 0');
    this.script = o.script ?? defaultScript();
  }

  /** Start every worker and wait until all have loaded their models. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.size }, () => this.spawn()));
  }

  get size(): number {
    return this.o.size;
  }
  get readyWorkers(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready && !s.retired) n++;
    return n;
  }
  get queueDepth(): number {
    return this.queue.length;
  }
  get inFlight(): number {
    let n = 0;
    for (const s of this.slots) if (s.current) n++;
    return n;
  }
  get queueLimit(): number {
    return this.o.queueLimit;
  }
  /** Resident memory of the live worker processes, in bytes (each as of its last message). */
  get workersRss(): number {
    let n = 0;
    for (const s of this.slots) if (!s.retired) n += s.rss ?? 0;
    return n;
  }

  /** Seconds a client should wait before retrying when the queue is full: about when the next slot frees. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.min(60, Math.ceil(this.serviceMsEma / Math.max(1, this.o.size) / 1000)));
  }

  run(task: AnalyzeTask, timeoutMs: number): Promise<TaskResult> {
    if (this.closing) return Promise.reject(new ClosedError());
    const idle = this.idleSlot();
    if (!idle && this.queue.length >= this.o.queueLimit) {
      this.rejectedBusy++;
      return Promise.reject(new BusyError(this.retryAfterSeconds()));
    }
    return new Promise<TaskResult>((resolve, reject) => {
      const p: Pending = { id: this.nextId++, task, resolve, reject, settled: false, enqueued: performance.now() };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => this.timeout(p, timeoutMs), timeoutMs);
      }
      if (idle) this.assign(idle, p);
      else this.queue.push(p);
    });
  }

  /** Stop taking tasks, let queued and running ones finish, then terminate the workers. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.queue.length || this.inFlight) await new Promise<void>((r) => this.drainWaiters.push(r));
    await Promise.all([...this.slots].map((s) => this.retire(s)));
  }

  private idleSlot(): Slot | undefined {
    for (const s of this.slots) if (s.ready && !s.current && !s.retired) return s;
    return undefined;
  }

  private spawn(): Promise<void> {
    // 'advanced' serialisation: typed arrays (image bytes) cross the IPC channel as such
    const worker = fork(this.script, [JSON.stringify(this.o.config)], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    return new Promise<void>((resolveReady, rejectReady) => {
      let initDone = false;
      worker.on('message', (m: FromWorker) => {
        if (typeof m.rss === 'number') slot.rss = m.rss;
        if (m.type === 'ready') {
          initDone = true;
          slot.ready = true;
          this.info ??= m.info;
          this.restartDelay = 250;
          resolveReady();
          this.dispatch();
        } else if (m.type === 'init-error') {
          initDone = true;
          rejectReady(new Error(`inference worker failed to start: ${m.message}`));
          void this.retire(slot);
        } else if (m.type === 'result' || m.type === 'error') {
          this.finish(slot, m);
        }
      });
      worker.on('error', (e) => {
        // the process could not be spawned or signalled; 'exit' follows if it ran
        if (slot.current) this.fail(slot.current, new WorkerCrashError(e.message));
      });
      worker.on('exit', (exitCode, signal) => {
        const code = exitCode ?? signal;
        this.slots.delete(slot);
        if (slot.deadlineTimer) clearTimeout(slot.deadlineTimer);
        const cur = slot.current;
        slot.current = undefined;
        if (cur) this.fail(cur, new WorkerCrashError(`worker exited with code ${code} while analysing this request`));
        if (!initDone) {
          initDone = true;
          rejectReady(new Error(`inference worker exited (${code}) before it was ready`));
        }
        if (slot.retired || this.closing) {
          this.checkDrained();
          return;
        }
        this.crashes++;
        // replace it (with a growing delay if workers keep dying at start-up)
        const delay = slot.ready ? 0 : this.restartDelay;
        this.restartDelay = Math.min(30_000, this.restartDelay * 2);
        setTimeout(() => {
          if (this.closing) return;
          this.restarts++;
          this.spawn().catch(() => {});
        }, delay).unref();
      });
    });
  }

  private assign(slot: Slot, p: Pending): void {
    slot.current = p;
    p.started = performance.now();
    const deadline = this.o.deadlineMs ?? 15_000;
    if (deadline > 0 && Number.isFinite(deadline)) {
      slot.deadlineTimer = setTimeout(() => this.overDeadline(slot, p, deadline), deadline);
      slot.deadlineTimer.unref();
    }
    // A plain Uint8Array of just the body (a Buffer may be a view of a larger pooled one); the
    // pool keeps no reference once it is sent.
    const own = new Uint8Array(p.task.bytes);
    p.task = { ...p.task, bytes: new Uint8Array(0) };
    try {
      slot.worker.send({ type: 'analyze', id: p.id, task: { ...p.task, bytes: own } });
    } catch (e) {
      slot.current = undefined;
      this.fail(p, new WorkerCrashError(`cannot send the task to the worker: ${(e as Error).message}`));
      queueMicrotask(() => this.dispatch());
    }
  }

  private finish(slot: Slot, m: Extract<FromWorker, { type: 'result' | 'error' }>): void {
    const p = slot.current;
    slot.current = undefined;
    if (slot.deadlineTimer) {
      clearTimeout(slot.deadlineTimer);
      slot.deadlineTimer = undefined;
    }
    if (p && p.id === m.id) {
      const ms = performance.now() - (p.started ?? p.enqueued);
      this.serviceMsEma = 0.8 * this.serviceMsEma + 0.2 * ms;
      this.completed++;
      if (!p.settled) {
        p.settled = true;
        if (p.timer) clearTimeout(p.timer);
        if (m.type === 'result') p.resolve({ result: m.result, image: m.image });
        else p.reject(new TaskError(m.code, m.message));
      }
    }
    this.dispatch();
  }

  private fail(p: Pending, e: Error): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    p.reject(e);
  }

  private timeout(p: Pending, ms: number): void {
    if (p.settled) return;
    this.timedOut++;
    const qi = this.queue.indexOf(p);
    if (qi >= 0) this.queue.splice(qi, 1);
    // A task still running goes on until it answers or reaches deadlineMs: a client's short
    // timeout must not be a way to make the server kill (and reload) workers.
    this.fail(p, new TimeoutError(ms));
    this.checkDrained();
  }

  /**
   * The task has held its worker for deadlineMs: fail it and kill the worker process (SIGKILL:
   * native code in sharp or onnxruntime stops too); the 'exit' handler spawns the replacement.
   */
  private overDeadline(slot: Slot, p: Pending, ms: number): void {
    slot.deadlineTimer = undefined;
    if (slot.current !== p) return;
    this.deadlineKills++;
    // out of service from now on: neither ready nor busy while it dies and its replacement loads
    slot.ready = false;
    slot.current = undefined;
    this.fail(p, new DeadlineError(ms));
    slot.worker.kill('SIGKILL');
  }

  private dispatch(): void {
    for (;;) {
      const next = this.queue[0];
      if (!next) break;
      const slot = this.idleSlot();
      if (!slot) break;
      this.queue.shift();
      if (next.settled) continue;
      this.assign(slot, next);
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.closing || this.queue.length || this.inFlight) return;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of w) r();
  }

  private async retire(slot: Slot): Promise<void> {
    slot.retired = true;
    slot.ready = false;
    if (slot.worker.exitCode === null && slot.worker.signalCode === null) {
      const exited = new Promise((r) => slot.worker.once('exit', r));
      slot.worker.kill('SIGKILL'); // idle (or closing): nothing of value is lost
      await exited;
    }
    this.slots.delete(slot);
  }
}
