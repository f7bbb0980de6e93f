/**
 * Prometheus metrics for a worker with prom-client: the standard process and event-loop metrics,
 * per-job counters and durations, and the queue's job counts read from Redis on each scrape,
 * served as text on http://HOST:PORT/metrics.
 */
import { createServer, type Server } from 'node:http';
import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobOutcome } from './worker.js';

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobs: Counter<'kind' | 'outcome'>;
  private readonly seconds: Histogram<'kind'>;

  constructor(queue?: Queue) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ferkit_worker_' });
    this.jobs = new Counter({
      name: 'ferkit_worker_jobs_total',
      help: 'Jobs this worker finished, by kind (image, segment, video) and outcome (completed, retried, failed)',
      labelNames: ['kind', 'outcome'],
      registers: [this.registry],
    });
    this.seconds = new Histogram({
      name: 'ferkit_worker_job_seconds',
      help: 'Seconds per job, by kind',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
    if (queue)
      new Gauge({
        name: 'ferkit_queue_jobs',
        help: 'Jobs in the queue by state (read from Redis at scrape time)',
        labelNames: ['state'],
        registers: [this.registry],
        async collect() {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'failed');
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        },
      });
  }

  job(kind: string, outcome: JobOutcome, seconds: number): void {
    this.jobs.inc({ kind, outcome });
    this.seconds.observe({ kind }, seconds);
  }

  /** Serve GET /metrics on this port (0: any free one); resolves with the server once listening. */
  listen(port: number, host = '0.0.0.0'): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('not found: GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500).end(`${e.message}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
