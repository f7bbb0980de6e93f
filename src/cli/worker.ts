import { checkRedis, DEFAULT_QUEUE_NAME, DEFAULT_REDIS_URL, redactRedisUrl } from '../queue/connection.js';
import { WorkerMetrics } from '../queue/metrics.js';
import { startQueueWorker } from '../queue/worker.js';
import { type Command, parseCommandArgs, parseNumber, UsageError } from './command.js';

const help = `Usage: ferkit worker [options]

Takes jobs from a queue filled by 'ferkit queue add' and analyses them with the same analyzer and
result records as 'ferkit analyze' / 'ferkit video'; run as many as you like on as many machines
as see the same files (a shared volume) and the same Redis. A job that fails is retried with
exponential backoff; a corrupt, empty, too large or missing input fails at once with its error
code and never blocks the rest. SIGTERM (or Ctrl-C) finishes the jobs in hand, then exits; a
worker killed outright (SIGKILL, a lost machine) loses nothing: its jobs are taken over by the
other workers once their lock runs out (--lock-seconds). Logs go to stderr.

Options:
  --redis URL               Redis (default ${DEFAULT_REDIS_URL})
  --queue NAME              queue name (default ${DEFAULT_QUEUE_NAME})
  --concurrency N           jobs at once in this process (default 1)
  --threads N               inference threads per model (default 1: one worker process per core
                            scales better than threads; 0 = all cores)
  --lock-seconds S          job lock; a killed worker's jobs are taken over after about S
                            seconds (default 30)
  --metrics-port PORT       serve Prometheus metrics on http://0.0.0.0:PORT/metrics (jobs by kind
                            and outcome, job seconds, queue counts, process and event-loop metrics)
  --exit-when-empty         exit once the queue has nothing left to run (batch jobs, benchmarks)
  -q, --quiet               log failures only

Example:
  ferkit worker --redis redis://queue-host:6379 --metrics-port 9464`;

const command: Command = {
  name: 'worker',
  summary: 'analyse jobs from a Redis queue (run one per core on as many machines as you like)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      redis: { type: 'string' },
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      threads: { type: 'string' },
      'lock-seconds': { type: 'string' },
      'metrics-port': { type: 'string' },
      'exit-when-empty': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const redisUrl = values.redis ?? DEFAULT_REDIS_URL;
    const queueName = values.queue ?? DEFAULT_QUEUE_NAME;
    const concurrency = parseNumber(values.concurrency, '--concurrency', 1, 1000) ?? 1;
    const threads = parseNumber(values.threads, '--threads', 0, 256) ?? 1;
    const lockSeconds = parseNumber(values['lock-seconds'], '--lock-seconds', 1, 3600) ?? 30;
    const metricsPort = parseNumber(values['metrics-port'], '--metrics-port', 0, 65535);
    const log = (s: string) => console.error(`ferkit worker ${process.pid}: ${s}`);
    await checkRedis(redisUrl);

    let metrics: WorkerMetrics | undefined;
    let lastError = 0;
    const qw = startQueueWorker({
      redisUrl,
      queueName,
      concurrency: Math.round(concurrency),
      threads: Math.round(threads),
      lockMs: lockSeconds * 1000,
      onJob(kind, outcome, seconds, error) {
        metrics?.job(kind, outcome, seconds);
        if (outcome !== 'completed') log(`${kind} job ${outcome}: ${error}`);
      },
      onError(e) {
        // ioredis reconnects on its own; say so at most every 5 s instead of a flood
        if (Date.now() - lastError > 5000) log(`${e.message} (reconnecting)`);
        lastError = Date.now();
      },
    });
    const server =
      metricsPort !== undefined ? await (metrics = new WorkerMetrics(qw.queue)).listen(metricsPort) : undefined;

    let stopping: Promise<void> | undefined;
    const stop = (why: string) => {
      stopping ??= (async () => {
        log(`${why}: finishing the jobs in hand, then exiting`);
        await qw.close();
        server?.close();
      })();
      return stopping;
    };
    const onSignal = (signal: NodeJS.Signals) => void stop(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await qw.worker.waitUntilReady();
    const address = server?.address();
    log(
      `ready: queue "${queueName}" at ${redactRedisUrl(redisUrl)}, concurrency ${concurrency}, threads ${threads}` +
        (address && typeof address === 'object' ? `, metrics on :${address.port}/metrics` : ''),
    );

    if (values['exit-when-empty']) {
      (async () => {
        while (!stopping) {
          await new Promise((r) => setTimeout(r, 500));
          if (!stopping && (await qw.pendingJobs().catch(() => 1)) === 0) void stop('queue empty');
        }
      })();
    }
    await new Promise<void>((resolve) => {
      const wait = () => (stopping ? stopping.then(resolve) : setTimeout(wait, 200));
      wait();
    });
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    if (!values.quiet) log('stopped');
    return 0;
  },
};

export default command;
