/**
 * Redis connections for the queue: the --redis URL checked and turned into ioredis options, a
 * fail-fast reachability check (a clear error naming the URL instead of ioredis retrying forever),
 * and the two connection flavours BullMQ wants: fail-fast for the CLI's one-shot commands, patient
 * (reconnect forever) for workers, so a Redis restart only pauses them.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { FerkitError } from '../node/index.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_QUEUE_NAME = 'ferkit';

/** `redis://[user:password@]host[:port][/db]` (or rediss:// for TLS) as ioredis options; E_INPUT when malformed. */
export function parseRedisUrl(url: string): RedisOptions {
  const bad = (why: string) =>
    new FerkitError('E_INPUT', `--redis: ${why}; expected redis://[user:password@]host[:port][/db], got "${url}"`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`unsupported scheme "${u.protocol}"`);
  if (!u.hostname) throw bad('no host');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText ? Number(dbText) : 0;
  if (!Number.isInteger(db) || db < 0) throw bad(`database "${dbText}" is not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** For `queue add/status/results`: no offline queue, one try per command, give up reconnecting quickly. */
export function oneShotConnection(url: string): RedisOptions {
  return {
    ...parseRedisUrl(url),
    connectTimeout: 5000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  };
}

/**
 * For workers: BullMQ requires maxRetriesPerRequest null on blocking connections; reconnect
 * forever with a capped backoff, so a Redis restart or fail-over only pauses the worker.
 */
export function workerConnection(url: string): RedisOptions {
  return {
    ...parseRedisUrl(url),
    connectTimeout: 5000,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
  };
}

/** Connect once and PING; throws E_INPUT naming the URL (no stack trace for the CLI) when unreachable. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis({
    ...parseRedisUrl(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: NodeJS.ErrnoException | undefined;
  client.on('error', (e) => {
    cause ??= e; // the socket's error (ECONNREFUSED…); connect() itself only says "Connection is closed"
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const err = cause ?? (e as NodeJS.ErrnoException);
    const why = err.code ?? err.message;
    throw new FerkitError(
      'E_INPUT',
      `cannot reach Redis at ${redactRedisUrl(url)} (${why}); start redis-server or pass --redis URL`,
    );
  } finally {
    client.disconnect();
  }
}

/** A plain client for the queue's own keys (results, inputs); caller disconnects it. */
export function redisClient(options: RedisOptions): Redis {
  const client = new Redis(options);
  client.on('error', () => {}); // commands reject with the error; reconnects are ioredis's job
  return client;
}

/** Resolves once the client can take commands (needed before the first one without an offline queue). */
export function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('end', () => reject(new Error('Redis connection closed')));
  });
}
