/**
 * Helpers for tests of `ferkit serve` as a child process on an ephemeral loopback port (needs
 * `npx tsc` first: the worker threads run dist/server/worker.js), driven as a black box over HTTP
 * and WebSocket. Test hooks are on unless asked otherwise (FERKIT_SERVER_TEST_HOOKS=1:
 * `x-ferkit-test-delay` / `x-ferkit-test-crash` headers).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import WebSocket from 'ws';

export const MAIN = resolve('dist/cli/main.js');
export const PHOTO = resolve('node_modules/@vladmandic/face-api/demo/sample1.jpg');

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

/** A raw HTTP request that tolerates the server answering before the whole body is sent. */
export function http(
  base: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Res> {
  const url = new URL(path, base);
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - t0,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export const json = (r: Res) => JSON.parse(r.body.toString('utf8'));

export function expectError(r: Res, status: number, code?: string) {
  expect(r.status).toBe(status);
  expect(String(r.headers['content-type'])).toMatch(/application\/json/);
  const j = json(r);
  expect(typeof j.error).toBe('string');
  expect(typeof j.code).toBe('string');
  if (code) expect(j.code).toBe(code);
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
}

/** Starts `ferkit serve`; `testHooks: false` runs it as shipped (the fuzz suite), without the test headers. */
export function startServer(
  args: string[],
  { testHooks = true }: { testHooks?: boolean } = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: testHooks ? { ...process.env, FERKIT_SERVER_TEST_HOOKS: '1' } : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 90_000);
    const check = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        res({ child, base: m[1], output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => rej(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

export function wsExchange(
  base: string,
  frames: (Buffer | string)[],
  timeoutMs = 30_000,
): Promise<{ replies: Record<string, unknown>[]; openAfter: boolean }> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(base.replace('http', 'ws') + '/v1/stream');
    const replies: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      rej(
        new Error(
          `WebSocket: ${replies.length} of ${frames.length} replies in time: ${JSON.stringify(replies.map((r) => ({ frame: r.frame, code: r.code, n: (r.faces as unknown[] | undefined)?.length })))}`,
        ),
      );
    }, timeoutMs);
    ws.on('open', () => {
      for (const f of frames) ws.send(f, { binary: typeof f !== 'string' });
    });
    ws.on('message', (m: Buffer) => {
      replies.push(JSON.parse(m.toString()));
      if (replies.length === frames.length) {
        clearTimeout(timer);
        const openAfter = ws.readyState === WebSocket.OPEN;
        ws.close();
        res({ replies, openAfter });
      }
    });
    ws.on('error', (e: Error) => {
      clearTimeout(timer);
      rej(e);
    });
  });
}

/** A value from the server's Prometheus text, e.g. process_resident_memory_bytes. */
export async function metric(base: string, name: string): Promise<number> {
  const text = (await http(base, 'GET', '/metrics')).body.toString();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * One WebSocket on /v1/stream; send() resolves with the reply to that message, matched by the
 * server's frame number (a frame refused as busy is answered at once, ahead of queued ones).
 */
export async function openStream(base: string): Promise<{
  send(data: Buffer | string): Promise<Record<string, unknown>>;
  isOpen(): boolean;
  close(): void;
}> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/stream`);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  let sent = 0;
  ws.on('message', (m: Buffer) => {
    const reply = JSON.parse(m.toString()) as Record<string, unknown>;
    const n = reply.frame as number;
    waiting.get(n)?.(reply);
    waiting.delete(n);
  });
  return {
    send(data) {
      const n = sent++;
      return new Promise((res) => {
        waiting.set(n, res);
        ws.send(data, { binary: typeof data !== 'string' });
      });
    },
    isOpen: () => ws.readyState === WebSocket.OPEN,
    close: () => ws.close(),
  };
}
