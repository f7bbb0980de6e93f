/**
 * `ferkit serve`: a fastify app over a pool of inference worker processes (pool.ts).
 *
 *   POST /v1/analyze   raw image body (image/*, application/octet-stream) or multipart `file`
 *                      → { width, height, faces, timings }; ?annotate=1[&format=png] → image
 *   GET  /v1/models    model cards and limits
 *   GET  /v1/stream    WebSocket: binary frames in, tracked faces (JSON) out, per connection
 *   GET  /healthz      200 when a worker is ready
 *   GET  /metrics      Prometheus text (prom-client)
 *   GET  /openapi.json OpenAPI 3, generated from the routes' schemas (schemas.ts); /docs: Swagger UI
 *
 * Every error is JSON `{ error, code }` with a status from its class (see errorStatus).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DEFAULT_EXPRESSION_MODEL } from '../node/expression-model.js';
import { packageRoot } from '../node/paths.js';
import { registerDocs, validatorSkippingBinaryBodies } from './docs.js';
import { Metrics } from './metrics.js';
import {
  BusyError,
  ClosedError,
  DeadlineError,
  TaskError,
  TimeoutError,
  WorkerCrashError,
  WorkerPool,
} from './pool.js';
import type { AnalyzeTask, WorkerAnalyzerOptions } from './protocol.js';
import { resultJson } from './result.js';
import { analyzeSchema, healthSchema, metricsSchema, modelsSchema, streamSchema } from './schemas.js';
import { streamHandler } from './stream.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  /** Inference workers (default: one per core). */
  workers?: number;
  /** Requests that may wait for a worker before 503 (default 4 per worker). */
  queue?: number;
  /** Per-request deadline in ms, waiting for a worker included (default 30 000); answered 504, the work goes on. */
  timeoutMs?: number;
  /**
   * Longest one request's analysis may hold a worker, in ms (default 15 000; 0 = no limit). Enforced:
   * past it the request gets 504 E_TIMEOUT and the worker is terminated and replaced.
   */
  deadlineMs?: number;
  /** Largest request body in bytes (default 20 MiB). */
  maxBytes?: number;
  /** Largest image in pixels (default 40 MP). */
  maxPixels?: number;
  /** The analysis options (detector, landmarks, expression model…) every worker's analyzer gets. */
  analyzer?: WorkerAnalyzerOptions;
  /** Frames a WebSocket client may have pending before further frames are answered E_BUSY (default 4). */
  wsMaxPending?: number;
  /** Log requests as JSON lines to stdout (fastify's logger). */
  logger?: boolean;
  /** Test hooks: `x-ferkit-test-crash: 1` kills the worker, `x-ferkit-test-delay: ms` delays it. */
  testHooks?: boolean;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  timeoutMs: 30_000,
  deadlineMs: 15_000,
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  wsMaxPending: 4,
};

export interface FerkitServer {
  app: FastifyInstance;
  pool: WorkerPool;
  options: Required<
    Pick<
      ServerOptions,
      'host' | 'port' | 'workers' | 'queue' | 'timeoutMs' | 'deadlineMs' | 'maxBytes' | 'maxPixels' | 'wsMaxPending'
    >
  >;
  /** Start listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful: stop accepting, finish in-flight requests, close sockets, stop workers. */
  close(): Promise<void>;
}

/** Room for multipart boundaries and part headers on top of the image byte limit. */
const MULTIPART_OVERHEAD = 64 * 1024;

/** Error → HTTP status and a stable code. */
export function errorStatus(e: unknown): { status: number; code: string; message: string; retryAfter?: number } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof BusyError) return { status: 503, code: e.code, message, retryAfter: e.retryAfterS };
  if (e instanceof ClosedError) return { status: 503, code: e.code, message, retryAfter: 1 };
  if (e instanceof TimeoutError || e instanceof DeadlineError) return { status: 504, code: e.code, message };
  if (e instanceof WorkerCrashError) return { status: 500, code: e.code, message };
  if (e instanceof TaskError) {
    const status = e.code === 'E_TOO_LARGE' ? 413 : ['E_DECODE', 'E_EMPTY', 'E_INPUT'].includes(e.code) ? 400 : 500;
    return { status, code: e.code, message };
  }
  const fe = e as { statusCode?: number; code?: string };
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500;
  const code =
    status === 413
      ? 'E_TOO_LARGE'
      : status === 415
        ? 'E_MEDIA_TYPE'
        : status === 404
          ? 'E_NOT_FOUND'
          : status < 500
            ? 'E_REQUEST'
            : 'E_INTERNAL';
  return { status, code, message: status >= 500 && !fe.statusCode ? 'internal error' : message };
}

const truthy = (v: unknown) => v === '1' || v === 'true' || v === '';

export async function createServer(options: ServerOptions = {}): Promise<FerkitServer> {
  const workers = Math.max(1, Math.floor(options.workers ?? availableParallelism()));
  const o = {
    host: options.host ?? SERVER_DEFAULTS.host,
    port: options.port ?? SERVER_DEFAULTS.port,
    workers,
    queue: Math.max(0, Math.floor(options.queue ?? workers * 4)),
    timeoutMs: options.timeoutMs ?? SERVER_DEFAULTS.timeoutMs,
    deadlineMs: options.deadlineMs ?? SERVER_DEFAULTS.deadlineMs,
    maxBytes: options.maxBytes ?? SERVER_DEFAULTS.maxBytes,
    maxPixels: options.maxPixels ?? SERVER_DEFAULTS.maxPixels,
    wsMaxPending: options.wsMaxPending ?? SERVER_DEFAULTS.wsMaxPending,
  };
  const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
  const pool = new WorkerPool({
    size: o.workers,
    queueLimit: o.queue,
    deadlineMs: o.deadlineMs,
    config: {
      ...options.analyzer,
      maxPixels: o.maxPixels,
      maxBytes: o.maxBytes,
      testHooks: options.testHooks === true,
    },
  });
  try {
    await pool.start();
  } catch (e) {
    await pool.close(); // terminate the workers that did start, or the process would linger
    throw e;
  }

  const ws = { count: 0 };
  const metrics = new Metrics(() => ({
    queueDepth: pool.queueDepth,
    queueLimit: pool.queueLimit,
    inFlight: pool.inFlight,
    workers: pool.size,
    workersReady: pool.readyWorkers,
    workerRestarts: pool.restarts,
    deadlineKills: pool.deadlineKills,
    workersRss: pool.workersRss,
    wsConnections: ws.count,
  }));
  let closing = false;
  const app = Fastify({
    logger: options.logger ? { level: 'info' } : false,
    bodyLimit: o.maxBytes,
    // node's own limits against slow or oversized requests
    requestTimeout: Math.max(o.timeoutMs * 2, 60_000),
    connectionTimeout: 0,
    keepAliveTimeout: 5_000,
    maxRequestsPerSocket: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    schemaController: validatorSkippingBinaryBodies(),
    // "querystring/format: must be equal to one of the allowed values (jpeg, jpg, png)"
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0];
      const allowed = (e?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
      return new Error(
        `${dataVar}${e?.instancePath ?? ''}: ${e?.message ?? 'invalid'}${allowed ? ` (${allowed.join(', ')})` : ''}`,
      );
    },
  });

  // Errors as { error, code }
  app.setErrorHandler((err, req, reply) => {
    const s = errorStatus(err);
    if (s.status === 415 && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      s.message = `unsupported content type ${req.headers['content-type'] ?? '(none)'}: send image/* or application/octet-stream bytes, or multipart/form-data with a file field`;
    }
    if (s.status >= 500 && s.code === 'E_INTERNAL') req.log.error(err);
    if (s.retryAfter) reply.header('Retry-After', String(s.retryAfter));
    reply.code(s.status).type('application/json').send({ error: s.message, code: s.code });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, code: 'E_NOT_FOUND' });
  });

  app.addHook('onRequest', async (req, reply) => {
    (req as FastifyRequest & { t0?: number }).t0 = performance.now();
    // A declared body over the limit is refused before it is read, WITHOUT closing the connection:
    // node then reads and discards the body while the 413 is on its way. Closing instead (fastify's
    // answer once a parser has rejected the body) resets the socket while the client is still
    // sending, and the reset discards the 413 the client had not read yet. Absurd declarations
    // (over 16× the limit) are not worth draining: those connections are closed.
    const declared = Number(req.headers['content-length']);
    const limit = o.maxBytes + (req.headers['content-type']?.startsWith('multipart/') ? MULTIPART_OVERHEAD : 0);
    if (declared > limit) {
      if (declared > 16 * limit) reply.header('connection', 'close');
      return reply
        .code(413)
        .type('application/json')
        .send({ error: `request body of ${declared} bytes is over the limit of ${o.maxBytes}`, code: 'E_TOO_LARGE' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const t0 = (req as FastifyRequest & { t0?: number }).t0 ?? performance.now();
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(req.method, route, reply.statusCode, (performance.now() - t0) / 1000);
  });

  // Raw image bodies
  const rawParser = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) =>
    done(null, body);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: o.maxBytes }, rawParser);
  app.addContentTypeParser(/^image\/[\w.+-]+$/i, { parseAs: 'buffer', bodyLimit: o.maxBytes }, rawParser);
  await app.register(fastifyMultipart, {
    limits: { fileSize: o.maxBytes, files: 1, fields: 16, parts: 32, headerPairs: 64, fieldSize: 64 * 1024 },
    throwFileSizeLimit: true,
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: o.maxBytes } });
  await registerDocs(app, { version, ...o });

  const testTask = (req: FastifyRequest): Partial<AnalyzeTask> => {
    if (!options.testHooks) return {};
    const delay = Number(req.headers['x-ferkit-test-delay']);
    return {
      crash: req.headers['x-ferkit-test-crash'] === '1',
      delayMs: delay > 0 ? Math.min(delay, 60_000) : undefined,
    };
  };

  app.post(
    '/v1/analyze',
    { schema: analyzeSchema },
    async (
      req: FastifyRequest<{ Querystring: { annotate?: string; format?: 'jpeg' | 'jpg' | 'png'; timeout?: number } }>,
      reply: FastifyReply,
    ) => {
      let bytes: Uint8Array;
      if (req.isMultipart()) {
        try {
          const file = await req.file();
          if (!file)
            throw Object.assign(new Error('multipart body has no file field (send the image as "file")'), {
              statusCode: 400,
            });
          bytes = await file.toBuffer();
        } catch (e) {
          // busboy's parse errors carry no status: a malformed body is the client's error
          if ((e as { statusCode?: number }).statusCode) throw e;
          throw Object.assign(new Error(`malformed multipart body: ${(e as Error).message}`), { statusCode: 400 });
        }
      } else if (Buffer.isBuffer(req.body)) {
        bytes = req.body;
      } else {
        const type = req.headers['content-type'] ?? '(none)';
        throw Object.assign(
          new Error(
            `unsupported content type ${type}: send image/* or application/octet-stream bytes, or multipart/form-data with a file field`,
          ),
          {
            statusCode: 415,
          },
        );
      }
      const q = req.query ?? {};
      const annotate = truthy(q.annotate);
      // format and timeout are checked by the route's querystring schema
      const format = q.format === 'png' ? 'png' : 'jpeg';
      const timeout = q.timeout === undefined ? o.timeoutMs : Math.min(q.timeout, o.timeoutMs);
      const { result, image } = await pool.run(
        { bytes, annotate: annotate ? format : undefined, ...testTask(req) },
        timeout,
      );
      reply.header('X-Ferkit-Faces', String(result.faces.length));
      if (annotate && image)
        return reply
          .type(format === 'png' ? 'image/png' : 'image/jpeg')
          .send(Buffer.from(image.buffer, image.byteOffset, image.byteLength));
      return resultJson(result);
    },
  );

  app.get('/v1/models', { schema: modelsSchema }, async () => ({
    version,
    ...pool.info,
    defaultExpressionModel: DEFAULT_EXPRESSION_MODEL,
    workers: pool.size,
    limits: {
      maxBytes: o.maxBytes,
      maxPixels: o.maxPixels,
      timeoutMs: o.timeoutMs,
      deadlineMs: o.deadlineMs,
      queue: o.queue,
    },
  }));

  app.get('/healthz', { schema: healthSchema }, async (_req, reply) => {
    const ready = pool.readyWorkers;
    if (closing) return reply.code(503).header('Retry-After', '1').send({ error: 'shutting down', code: 'E_CLOSED' });
    if (!ready)
      return reply
        .code(503)
        .header('Retry-After', '1')
        .send({ error: 'no inference worker ready', code: 'E_NOT_READY' });
    return { status: 'ok', workers: ready, queue: pool.queueDepth, inFlight: pool.inFlight };
  });

  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.render()),
  );

  const wsHandler = streamHandler({
    pool,
    metrics,
    timeoutMs: o.timeoutMs,
    maxPending: o.wsMaxPending,
    errorStatus,
    connections: ws,
  });
  const upgradeRequired = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(426)
      .header('Upgrade', 'websocket')
      .send({ error: 'this endpoint is a WebSocket: send an Upgrade: websocket request', code: 'E_UPGRADE_REQUIRED' });
  // a plain GET (no Upgrade) gets 426 rather than a bare 404
  app.route({
    method: 'GET',
    url: '/v1/stream',
    schema: streamSchema,
    handler: upgradeRequired,
    wsHandler,
  } as unknown as Parameters<typeof app.route>[0]);

  let address = '';
  return {
    app,
    pool,
    options: o,
    async listen() {
      try {
        address = await app.listen({ host: o.host, port: o.port });
      } catch (e) {
        closing = true;
        await app.close().catch(() => {});
        await pool.close();
        throw e;
      }
      return address;
    },
    async close() {
      if (closing) return;
      closing = true;
      await app.close(); // stops accepting; waits for in-flight requests; closes WebSockets
      await pool.close(); // lets any queued work finish, then terminates the workers
    },
  };
}
