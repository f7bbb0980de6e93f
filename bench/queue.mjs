#!/usr/bin/env node
/**
 * Throughput of `ferkit worker` processes on a queue, against `ferkit analyze` on the same files.
 * Needs `npx tsc -p tsconfig.json` first and Debian's redis-server; starts its own Redis on a free
 * loopback port and removes it after.
 *
 *   node bench/queue.mjs [--images N] [--workers 1,2] [--repeat R] [--out FILE.json]
 *
 * For each repeat, side by side on the same N synthesised images (bench/queue-inputs.mjs):
 *  - `ferkit analyze DIR --threads 1` on N images and on 1 image: per-image cost without startup
 *    = (T_N − T_1) / (N − 1);
 *  - for each worker count W: W `ferkit worker --threads 1` processes, warmed up on W×2 other
 *    images (the model loads on a worker's first job), then `queue add` of the N images timed to
 *    the last result: images/s; the per-job overhead is 1/rate(1 worker) − the analyze per-image
 *    cost; scaling = rate(2) / rate(1).
 *  - Redis's own CPU seconds and commands per image in the 1-worker run (INFO), and the bytes each
 *    result takes in Redis (MEMORY USAGE of the results hash / N).
 * Reports medians over the repeats.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { imageVariants } from './queue-inputs.mjs';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    workers: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});
const N = Number(values.images);
const WORKERS = values.workers.split(',').map(Number);
const REPEAT = Number(values.repeat);
const CLI = resolve('dist/cli/main.js');

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timed(args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`ferkit ${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

function startWorker(redisUrl, queue) {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', redisUrl, '--queue', queue, '--threads', '1', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const ready = new Promise((res, rej) => {
    const poll = setInterval(() => {
      if (/ready/.test(err)) {
        clearInterval(poll);
        res();
      } else if (child.exitCode !== null) {
        clearInterval(poll);
        rej(new Error(err));
      }
    }, 50);
  });
  return { child, ready, exited: new Promise((r) => child.once('exit', r)) };
}

async function waitFinished(redis, queue, n) {
  while (Number(await redis.hlen(`ferkit:${queue}:results`)) < n) await sleep(25);
}

const redisInfo = async (redis) => {
  const cpu = await redis.info('cpu');
  const stats = await redis.info('stats');
  const num = (text, key) => Number(new RegExp(`${key}:([\\d.]+)`).exec(text)?.[1] ?? NaN);
  return {
    cpu: num(cpu, 'used_cpu_sys') + num(cpu, 'used_cpu_user'),
    commands: num(stats, 'total_commands_processed'),
  };
};

const dir = mkdtempSync(join(tmpdir(), 'ferkit-bench-queue-'));
const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
  stdio: 'ignore',
});
const redisUrl = `redis://127.0.0.1:${port}`;
const redis = new Redis(redisUrl, { lazyConnect: true });
try {
  await sleep(500);
  await redis.connect();
  await redis.ping();
  const images = await imageVariants(join(dir, 'images'), N);
  const runs = [];
  for (let rep = 0; rep < REPEAT; rep++) {
    const run = { repeat: rep };
    const tN = timed(['analyze', join(dir, 'images'), '--threads', '1', '--format', 'jsonl']);
    const t1 = timed(['analyze', images[0], '--threads', '1', '--format', 'jsonl']);
    run.analyzeSecondsPerImage = (tN - t1) / (N - 1);
    run.analyzeImagesPerSecond = 1 / run.analyzeSecondsPerImage;
    for (const w of WORKERS) {
      const queue = `bench-${rep}-${w}`;
      const workers = Array.from({ length: w }, () => startWorker(redisUrl, queue));
      await Promise.all(workers.map((x) => x.ready));
      const warm = await imageVariants(join(dir, `warm-${rep}-${w}`), w * 2, 100_000 + rep * 100 + w * 10);
      timed(['queue', 'add', ...warm, '--redis', redisUrl, '--queue', queue]);
      await waitFinished(redis, queue, warm.length);
      const before = await redisInfo(redis);
      const t = performance.now();
      timed(['queue', 'add', join(dir, 'images'), '--redis', redisUrl, '--queue', queue]);
      await waitFinished(redis, queue, warm.length + N);
      const seconds = (performance.now() - t) / 1000;
      const after = await redisInfo(redis);
      run[`workers${w}`] = { seconds, imagesPerSecond: N / seconds };
      if (w === 1) {
        run.redisCpuMsPerImage = ((after.cpu - before.cpu) * 1000) / N;
        run.redisCommandsPerImage = (after.commands - before.commands) / N;
        run.redisBytesPerResult = Number(await redis.call('MEMORY', 'USAGE', `ferkit:${queue}:results`, 'SAMPLES', '0')) / (N + warm.length);
        const sample = await redis.hvals(`ferkit:${queue}:results`);
        run.jsonBytesPerResult = sample.reduce((a, s) => a + Buffer.byteLength(s), 0) / sample.length;
      }
      for (const x of workers) x.child.kill('SIGTERM');
      await Promise.all(workers.map((x) => x.exited));
    }
    const r1 = run.workers1?.imagesPerSecond;
    if (r1) run.overheadMsPerJob = (1 / r1 - run.analyzeSecondsPerImage) * 1000;
    if (r1 && run.workers2) run.scaling2over1 = run.workers2.imagesPerSecond / r1;
    runs.push(run);
    console.error(JSON.stringify(run));
  }
  const pick = (f) => median(runs.map(f).filter((v) => v !== undefined && Number.isFinite(v)));
  const summary = {
    images: N,
    repeats: REPEAT,
    cores: cpus().length,
    analyzeImagesPerSecond: pick((r) => r.analyzeImagesPerSecond),
    ...Object.fromEntries(WORKERS.map((w) => [`workers${w}ImagesPerSecond`, pick((r) => r[`workers${w}`]?.imagesPerSecond)])),
    scaling2over1: pick((r) => r.scaling2over1),
    overheadMsPerJob: pick((r) => r.overheadMsPerJob),
    redisCpuMsPerImage: pick((r) => r.redisCpuMsPerImage),
    redisCommandsPerImage: pick((r) => r.redisCommandsPerImage),
    redisBytesPerResult: pick((r) => r.redisBytesPerResult),
    jsonBytesPerResult: pick((r) => r.jsonBytesPerResult),
  };
  console.log(JSON.stringify(summary, null, 2));
  if (values.out) writeFileSync(values.out, JSON.stringify({ summary, runs }, null, 2) + '\n');
} finally {
  redis.disconnect();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
