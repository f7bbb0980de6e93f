import { availableParallelism } from 'node:os';
import { createServer, SERVER_DEFAULTS } from '../server/app.js';
import { ANALYSIS_ARGS, type AnalysisValues, analysisHelp, parseAnalysisOptions } from './analysis-options.js';
import { type Command, parseCommandArgs, parseNumber, UsageError } from './command.js';

const help = `Usage: ferkit serve [options]

An HTTP + WebSocket server for expression recognition (fastify). Inference runs in a pool
of worker processes (one analyzer with threads=1 each) behind a bounded queue.

Endpoints:
  POST /v1/analyze     image as the raw body (Content-Type image/* or
                       application/octet-stream) or multipart/form-data field "file"
                       → JSON { width, height, faces, timings }
                       ?annotate=1 → annotated JPEG (&format=png for PNG)
                       ?timeout=MS → a shorter per-request timeout
  GET  /v1/models      models in use and limits
  GET  /v1/stream      WebSocket: send binary JPEG/PNG frames, get one JSON message per
                       frame with tracked faces (stable ids, smoothed probabilities)
  GET  /healthz        200 when ready
  GET  /metrics        Prometheus metrics (request counts and latency, queue, workers,
                       process CPU/memory, event-loop lag)
  GET  /openapi.json   OpenAPI 3 document, generated from the routes' schemas
  GET  /docs           the same, browsable (Swagger UI)

Errors are JSON { error, code }: 400 undecodable/empty image, 413 body or image too
large, 415 wrong content type, 500 worker crashed (it is replaced), 503 queue full
(with Retry-After), 504 E_TIMEOUT: past --timeout, or the analysis ran past
--deadline-ms (that worker is stopped and replaced, so one costly input cannot hold a
core). SIGTERM/SIGINT: stop accepting, finish in-flight requests, stop the workers, exit 0.

Options:
  --port N            port (default ${SERVER_DEFAULTS.port}; 0 = any free port)
  --host ADDR         address to bind (default ${SERVER_DEFAULTS.host}; 0.0.0.0 for all)
  --workers N         inference workers (default: cores, here ${availableParallelism()})
  --queue N           requests that may wait for a worker before 503 (default 4×workers)
  --timeout MS        per-request timeout, waiting for a worker included (default
                      ${SERVER_DEFAULTS.timeoutMs}); the analysis itself goes on up to --deadline-ms
  --deadline-ms MS    longest one request's analysis may hold a worker; enforced by
                      terminating and replacing the worker (default ${SERVER_DEFAULTS.deadlineMs}; 0 = none)
  --max-bytes B       largest request body (default ${SERVER_DEFAULTS.maxBytes})
  --max-pixels P      largest image in pixels (default ${SERVER_DEFAULTS.maxPixels})
  --grace MS          longest a graceful shutdown may take before exit 1 (default 30000)
${analysisHelp(22, ['threads'])}
  --log               log each request (JSON lines on stdout)
  -h, --help          this help

Example:
  ferkit serve --port 8080 &
  curl -s --data-binary @photo.jpg -H 'Content-Type: image/jpeg' localhost:8080/v1/analyze`;

/** The analysis flags; --threads is refused: each worker runs one inference thread (--workers sets the parallelism). */
function serverAnalyzerOptions(values: AnalysisValues) {
  if (values.threads !== undefined) throw new UsageError('--threads: not for serve; use --workers (one thread each)');
  const { threads: _threads, ...analyzer } = parseAnalysisOptions(values);
  return analyzer;
}

const command: Command = {
  name: 'serve',
  summary: 'HTTP/WebSocket server (worker pool, bounded queue, metrics, OpenAPI)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      queue: { type: 'string' },
      timeout: { type: 'string' },
      'deadline-ms': { type: 'string' },
      'max-bytes': { type: 'string' },
      'max-pixels': { type: 'string' },
      grace: { type: 'string' },
      ...ANALYSIS_ARGS,
      log: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const int = (v: string | undefined, flag: string, min: number, max: number) => {
      const n = parseNumber(v, flag, min, max);
      if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`${flag}: expected a whole number, got "${v}"`);
      return n;
    };
    const grace = int(values.grace, '--grace', 0, 3_600_000) ?? 30_000;
    const t0 = performance.now();
    const server = await createServer({
      port: int(values.port, '--port', 0, 65535),
      host: values.host,
      workers: int(values.workers, '--workers', 1, 256),
      queue: int(values.queue, '--queue', 0, 100_000),
      timeoutMs: int(values.timeout, '--timeout', 1, 3_600_000),
      deadlineMs: int(values['deadline-ms'], '--deadline-ms', 0, 3_600_000),
      maxBytes: int(values['max-bytes'], '--max-bytes', 1, 2 ** 31),
      maxPixels: int(values['max-pixels'], '--max-pixels', 1, 1e9),
      analyzer: serverAnalyzerOptions(values),
      logger: values.log === true,
      testHooks: process.env.FERKIT_SERVER_TEST_HOOKS === '1',
    });
    const url = await server.listen();
    const o = server.options;
    console.log(
      `ferkit serve: listening on ${url} (${o.workers} worker${o.workers === 1 ? '' : 's'}, queue ${o.queue}, timeout ${o.timeoutMs} ms, ` +
        `deadline ${o.deadlineMs ? `${o.deadlineMs} ms` : 'none'}, ` +
        `max ${o.maxBytes} bytes / ${o.maxPixels} px; ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`ferkit serve: ${signal} again, exiting now`);
          process.exit(1);
        }
        stopping = true;
        console.log(`ferkit serve: ${signal}: finishing in-flight requests…`);
        const deadline = setTimeout(() => {
          console.error(`ferkit serve: shutdown took over ${grace} ms, exiting`);
          process.exit(1);
        }, grace);
        deadline.unref();
        server.close().then(
          () => {
            clearTimeout(deadline);
            console.log('ferkit serve: stopped');
            resolve(0);
          },
          (e) => {
            console.error(`ferkit serve: error while stopping: ${(e as Error).message}`);
            resolve(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
};

export default command;
