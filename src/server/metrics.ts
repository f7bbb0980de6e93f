/**
 * The server's Prometheus metrics, through prom-client: request counts and latency by route, the
 * WebSocket frames, the pool's gauges (read when scraped), and prom-client's default process and
 * Node metrics (CPU, RSS, heap, event-loop lag, GC). One registry per server, not the global one,
 * so several servers in one process (tests) keep their own counts.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds: one analysis takes ~0.1 s, a queued one under overload ~0.3–1 s. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface GaugeSource {
  queueDepth: number;
  queueLimit: number;
  inFlight: number;
  workers: number;
  workersReady: number;
  workerRestarts: number;
  deadlineKills: number;
  workersRss: number;
  wsConnections: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly wsFrames: Counter<'result'>;

  constructor(gauges: () => GaugeSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'ferkit_http_requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'ferkit_http_request_duration_seconds',
      help: 'HTTP request latency.',
      labelNames: ['method', 'route'],
      buckets: BUCKETS,
      registers,
    });
    this.wsFrames = new Counter({
      name: 'ferkit_ws_frames_total',
      help: 'WebSocket frames answered, by result.',
      labelNames: ['result'],
      registers,
    });
    const gauge = (name: string, help: string, read: (g: GaugeSource) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(gauges()));
        },
      });
    // Totals kept by the pool, exposed as counters: set to the pool's count at each scrape.
    const counter = (name: string, help: string, read: (g: GaugeSource) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(gauges()));
        },
      });
    gauge('ferkit_queue_depth', 'Requests waiting for a worker.', (g) => g.queueDepth);
    gauge('ferkit_queue_limit', 'Most requests that may wait before 503.', (g) => g.queueLimit);
    gauge('ferkit_in_flight', 'Requests being analysed by a worker.', (g) => g.inFlight);
    gauge('ferkit_workers', 'Inference workers configured.', (g) => g.workers);
    gauge('ferkit_workers_ready', 'Inference workers ready.', (g) => g.workersReady);
    gauge('ferkit_ws_connections', 'Open WebSocket streams.', (g) => g.wsConnections);
    // process_resident_memory_bytes is this (main) process only: the workers are processes of their own
    gauge(
      'ferkit_workers_resident_memory_bytes',
      'Resident memory of the inference worker processes together, as of their last answers.',
      (g) => g.workersRss,
    );
    counter('ferkit_worker_restarts_total', 'Workers replaced after a crash or a deadline.', (g) => g.workerRestarts);
    counter(
      'ferkit_worker_deadline_kills_total',
      'Workers terminated because one request ran past the per-request deadline.',
      (g) => g.deadlineKills,
    );
  }

  /** The Content-Type of `render()`: the text exposition format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  observeWsFrame(result: 'ok' | 'error' | 'busy'): void {
    this.wsFrames.inc({ result });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
