/** Prometheus text exposition (format 0.0.4), hand-rolled: counters, one histogram, gauges. */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export interface GaugeSource {
  queueDepth: number;
  queueLimit: number;
  inFlight: number;
  workers: number;
  workersReady: number;
  workerRestarts: number;
  wsConnections: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly wsFrames = new Map<string, number>();
  private readonly started = Date.now();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = JSON.stringify([method, route, String(status)]);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hk = JSON.stringify([method, route]);
    let h = this.latency.get(hk);
    if (!h) this.latency.set(hk, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  observeWsFrame(result: 'ok' | 'error' | 'busy'): void {
    this.wsFrames.set(result, (this.wsFrames.get(result) ?? 0) + 1);
  }

  render(g: GaugeSource): string {
    const out: string[] = [];
    out.push(
      '# HELP ferkit_http_requests_total HTTP requests by method, route and status.',
      '# TYPE ferkit_http_requests_total counter',
    );
    for (const [k, v] of this.requests) {
      const [method, route, status] = JSON.parse(k) as string[];
      out.push(`ferkit_http_requests_total${labels({ method, route, status })} ${v}`);
    }
    out.push(
      '# HELP ferkit_http_request_duration_seconds HTTP request latency.',
      '# TYPE ferkit_http_request_duration_seconds histogram',
    );
    for (const [k, h] of this.latency) {
      const [method, route] = JSON.parse(k) as string[];
      BUCKETS.forEach((b, i) => {
        out.push(
          `ferkit_http_request_duration_seconds_bucket${labels({ method, route, le: String(b) })} ${h.counts[i]}`,
        );
      });
      out.push(`ferkit_http_request_duration_seconds_bucket${labels({ method, route, le: '+Inf' })} ${h.count}`);
      out.push(`ferkit_http_request_duration_seconds_sum${labels({ method, route })} ${h.sum.toFixed(6)}`);
      out.push(`ferkit_http_request_duration_seconds_count${labels({ method, route })} ${h.count}`);
    }
    out.push(
      '# HELP ferkit_ws_frames_total WebSocket frames answered, by result.',
      '# TYPE ferkit_ws_frames_total counter',
    );
    for (const [result, v] of this.wsFrames) out.push(`ferkit_ws_frames_total${labels({ result })} ${v}`);
    const gauge = (name: string, help: string, v: number, type = 'gauge') =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`);
    gauge('ferkit_queue_depth', 'Requests waiting for a worker.', g.queueDepth);
    gauge('ferkit_queue_limit', 'Most requests that may wait before 503.', g.queueLimit);
    gauge('ferkit_in_flight', 'Requests being analysed by a worker.', g.inFlight);
    gauge('ferkit_workers', 'Inference workers configured.', g.workers);
    gauge('ferkit_workers_ready', 'Inference workers ready.', g.workersReady);
    gauge('ferkit_worker_restarts_total', 'Workers replaced after a crash.', g.workerRestarts, 'counter');
    gauge('ferkit_ws_connections', 'Open WebSocket streams.', g.wsConnections);
    const mem = process.memoryUsage();
    gauge('process_resident_memory_bytes', 'Resident set size in bytes.', mem.rss);
    gauge('nodejs_heap_used_bytes', 'V8 heap used in bytes.', mem.heapUsed);
    gauge(
      'process_start_time_seconds',
      'Start time of the process since the Unix epoch in seconds.',
      Math.round(this.started / 1000),
    );
    const cpu = process.cpuUsage();
    gauge(
      'process_cpu_seconds_total',
      'User and system CPU time in seconds.',
      (cpu.user + cpu.system) / 1e6,
      'counter',
    );
    return out.join('\n') + '\n';
  }
}
