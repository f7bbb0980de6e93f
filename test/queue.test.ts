/**
 * `ferkit queue` and `ferkit worker` on a real Redis: clear errors (unreachable Redis naming the
 * URL without a stack trace, a malformed URL, unknown options, unreadable paths), content-hash
 * dedupe of renamed copies, http(s) inputs with retries and exponential backoff, an input gone
 * for good failed at once, prom-client metrics on --metrics-port, and a Redis restarted mid-run
 * (default persistence: the RDB snapshot it saves on shutdown) after which the run completes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileResult } from '../src/pipeline/records.js';
import { redisClient } from '../src/queue/connection.js';
import { QueueStore } from '../src/queue/store.js';
import { cli, runCli } from './helpers/cli-process.js';
import { imageVariants, pannedVideo } from './helpers/queue-inputs.js';
import { freePort, hasRedis, TestRedis } from './helpers/redis.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

describe('queue: clear errors without Redis', () => {
  it('names an unreachable Redis URL, with no stack trace, for add, status, results and worker', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [
      ['queue', 'add', 'node_modules/@vladmandic/face-api/demo/sample1.jpg'],
      ['queue', 'status'],
      ['queue', 'results', '--out', '-'],
      ['worker'],
    ]) {
      const r = await cli([...args, '--redis', url]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`cannot reach Redis at ${url}`);
      expect(r.stderr).toContain('ECONNREFUSED');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a malformed --redis, unknown options and missing arguments as usage errors', async () => {
    const bad = await cli(['queue', 'status', '--redis', 'http://localhost:6379']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--redis: unsupported scheme "http:"/);
    expect((await cli(['queue', 'add', 'x.jpg', '--bogus'])).code).toBe(2);
    expect((await cli(['queue', 'add', 'x.jpg', '--detector', 'hog'])).stderr).toMatch(/--detector: expected one of/);
    expect((await cli(['queue', 'results'])).stderr).toMatch(/--out FILE is required/);
    expect((await cli(['queue', 'frobnicate'])).code).toBe(2);
    expect((await cli(['worker', '--concurrency', '0'])).code).toBe(2);
  });
});

describe.skipIf(!hasRedis)('queue on a real Redis', () => {
  let redis: TestRedis;
  let dir: string;
  let images: string[];
  let http: Server;
  let base = '';
  const hits = new Map<string, number>();

  beforeAll(async () => {
    redis = await TestRedis.start();
    dir = mkdtempSync(join(tmpdir(), 'ferkit-queue-'));
    images = await imageVariants(join(dir, 'images'), 40);
    // a local http server: /ok and /flaky serve an image (flaky answers its 2nd request with a 503),
    // /gone serves it once (for add's hash) and then 404s
    http = createServer((req, res) => {
      const path = req.url ?? '';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if ((path === '/flaky.jpg' && n === 2) || (path === '/gone.jpg' && n > 1)) {
        res.writeHead(path === '/gone.jpg' ? 404 : 503).end();
        return;
      }
      if (path === '/ok.jpg' || path === '/flaky.jpg' || path === '/gone.jpg')
        res
          .writeHead(200, { 'content-type': 'image/jpeg' })
          .end(readFileSync(images[{ '/ok.jpg': 0, '/flaky.jpg': 1, '/gone.jpg': 3 }[path] ?? 0]));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    http?.close();
    await redis?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('skips a renamed copy as known and refuses unreadable paths and URLs at add time', async () => {
    const common = ['--redis', redis.url, '--queue', 'dedupe'];
    const copy = join(dir, 'renamed-copy.jpg');
    copyFileSync(images[0], copy);
    const r = await cli(['queue', 'add', images[0], copy, join(dir, 'missing.jpg'), `${base}/nothing.jpg`, ...common]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 added (1 jobs), 1 skipped as known, 2 refused');
    expect(r.stderr).toContain(`refused: ${join(dir, 'missing.jpg')}: no such file`);
    expect(r.stderr).toContain(`refused: ${base}/nothing.jpg: HTTP 404`);
    // other options are another key: the same file is added again
    const tta = await cli(['queue', 'add', copy, '--tta', 'none', '--json', ...common]);
    expect(JSON.parse(tta.stdout)).toMatchObject({ added: 1, known: 0 });
  });

  it('fetches URLs, retries a 503 with backoff, fails a 404 at once', async () => {
    const common = ['--redis', redis.url, '--queue', 'urls'];
    const add = await cli([
      'queue',
      'add',
      `${base}/ok.jpg`,
      `${base}/flaky.jpg`,
      `${base}/gone.jpg`,
      '--backoff',
      '200',
      ...common,
    ]);
    expect(add.stdout, add.stderr).toContain('3 added');
    const worker = runCli(['worker', ...common, '--exit-when-empty']);
    expect(await worker.exited, worker.stderr()).toBe(0);
    expect(worker.stderr()).toMatch(/image job retried: .*flaky\.jpg: HTTP 503/);

    const out = join(dir, 'urls.jsonl');
    expect((await cli(['queue', 'results', '--out', out, ...common])).code).toBe(0);
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FileResult);
    const reference = JSON.parse(
      (await cli(['analyze', images[0], images[1], '--threads', '1'])).stdout,
    ) as FileResult[];
    const byFile = new Map(records.map((r) => [r.file, r]));
    expect(byFile.get(`${base}/ok.jpg`)).toEqual({ ...reference[0], file: `${base}/ok.jpg` });
    expect(byFile.get(`${base}/flaky.jpg`)).toEqual({ ...reference[1], file: `${base}/flaky.jpg` });
    expect(byFile.get(`${base}/gone.jpg`)).toMatchObject({ code: 'E_NOT_FOUND', error: `${base}/gone.jpg: HTTP 404` });
    expect(hits.get('/flaky.jpg')).toBe(3); // add's hash, the 503, the retry
    expect(hits.get('/gone.jpg')).toBe(2); // add's hash, one try: no retries for a 404
  });

  it.skipIf(!hasFfmpeg)(
    'refuses a video ffprobe cannot read at add time, and fails a video gone before its segments ran',
    async () => {
      const common = ['--redis', redis.url, '--queue', 'videos'];
      const garbage = join(dir, 'garbage.mp4');
      writeFileSync(garbage, 'not a video at all\n');
      const refused = await cli(['queue', 'add', garbage, '--json', ...common]);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout).refused).toEqual([
        expect.objectContaining({ file: garbage, code: 'E_DECODE' }),
      ]);

      const clip = pannedVideo(join(dir, 'gone.mp4'), 1, 2);
      const add = await cli(['queue', 'add', clip, '--segment', '0.5', '--json', ...common]);
      expect(JSON.parse(add.stdout)).toMatchObject({ added: 1, jobs: 5 }); // 4 segments + the stitch job
      rmSync(clip);
      const worker = runCli(['worker', ...common, '--exit-when-empty']);
      expect(await worker.exited, worker.stderr()).toBe(0);
      const out = join(dir, 'videos.jsonl');
      await cli(['queue', 'results', '--out', out, ...common]);
      const [record] = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(record).toMatchObject({ file: clip, code: 'E_NOT_FOUND', error: `${clip}: no such file` });
      const status = JSON.parse((await cli(['queue', 'status', '--json', ...common])).stdout);
      expect(status.inputs).toMatchObject({ total: 1, failed: 1, pending: 0 });
      expect(status.jobs).toMatchObject({ waitingChildren: 0, waiting: 0, active: 0 });
    },
  );

  it('exports prom-client metrics: job counters, queue counts, process and event-loop metrics', async () => {
    const common = ['--redis', redis.url, '--queue', 'metrics'];
    await cli(['queue', 'add', images[2], join(dir, 'renamed-copy.jpg'), ...common]);
    const port = await freePort();
    const worker = runCli(['worker', ...common, '--metrics-port', String(port)]);
    try {
      await worker.waitForStderr(/ready/);
      const store = new QueueStore(redisClient({ port: redis.port, host: '127.0.0.1' }), 'metrics');
      while ((await store.counts()).finished < 2) await new Promise((r) => setTimeout(r, 100));
      store.redis.disconnect();
      await worker.waitForStderr(new RegExp(`metrics on :${port}/metrics`));
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/^ferkit_worker_jobs_total\{kind="image",outcome="completed"\} 2$/m);
      expect(text).toMatch(/^ferkit_worker_job_seconds_count\{kind="image"\} 2$/m);
      expect(text).toMatch(/^ferkit_queue_jobs\{state="waiting"\} 0$/m);
      expect(text).toMatch(/^ferkit_worker_process_cpu_user_seconds_total /m);
      expect(text).toMatch(/^ferkit_worker_nodejs_eventloop_lag_seconds /m);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });

  it('completes a run across a Redis restart (default persistence: the RDB saved on shutdown)', async () => {
    const common = ['--redis', redis.url, '--queue', 'restart'];
    const add = await cli(['queue', 'add', join(dir, 'images'), '--json', ...common]);
    expect(JSON.parse(add.stdout)).toMatchObject({ added: images.length });
    const store = new QueueStore(redisClient({ port: redis.port, host: '127.0.0.1' }), 'restart');
    const worker = runCli(['worker', ...common, '--lock-seconds', '3']);
    try {
      await worker.waitForStderr(/ready/);
      while ((await store.counts()).finished < 10) await new Promise((r) => setTimeout(r, 100));
      expect((await store.counts()).finished).toBeLessThan(images.length - 5); // mid-run
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.launch();
      const t0 = Date.now();
      while ((await store.counts()).finished < images.length) {
        expect(Date.now() - t0).toBeLessThan(120_000);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      store.redis.disconnect();
    }
    const out = join(dir, 'restart.csv');
    const r = await cli(['queue', 'results', '--out', out, ...common]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${images.length} results (0 failed)`);
    const files = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]);
    expect([...new Set(files)].sort()).toEqual([...images].sort());
  }, 180_000);
});
