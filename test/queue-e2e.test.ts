/**
 * `ferkit queue` + `ferkit worker` end to end on a real Redis (Debian's redis-server on a free
 * loopback port): 500 synthesised image variants, 3 corrupt files and 2 short videos, analysed by
 * three worker processes of which one is SIGKILLed mid-run. Every input must end with exactly one
 * record, equal to a single-process `ferkit analyze` / `ferkit video` of the same file; the corrupt
 * ones failed at once with their codes; re-adding everything adds nothing; SIGTERM ends the others.
 * FERKIT_QUEUE_IMAGES overrides the 500 (e.g. a quick local run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileResult } from '../src/pipeline/records.js';
import { redisClient } from '../src/queue/connection.js';
import { QueueStore } from '../src/queue/store.js';
import type { VideoRecord } from '../src/queue/video-record.js';
import type { TimelineRow, VideoSummary } from '../src/video/timeline.js';
import { type CliRun, cli, runCli } from './helpers/cli-process.js';
import { corruptImages, imageVariants, pannedVideo } from './helpers/queue-inputs.js';
import { hasRedis, TestRedis } from './helpers/redis.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const IMAGES = Number(process.env.FERKIT_QUEUE_IMAGES ?? 500);
const QUEUE = 'e2e';

describe.skipIf(!hasRedis || !hasFfmpeg)('queue end to end: 3 workers, one SIGKILLed', () => {
  let redis: TestRedis;
  let dir: string;
  let images: string[];
  let corrupt: { file: string; code: string }[];
  let videos: string[];
  const reference = new Map<string, FileResult>();
  const referenceVideos = new Map<string, { timeline: TimelineRow[]; summary: VideoSummary }>();

  beforeAll(async () => {
    redis = await TestRedis.start();
    dir = mkdtempSync(join(tmpdir(), 'ferkit-queue-e2e-'));
    images = await imageVariants(join(dir, 'images'), IMAGES);
    corrupt = corruptImages(join(dir, 'images'));
    videos = [pannedVideo(join(dir, 'videos', 'a.mp4'), 2, 3), pannedVideo(join(dir, 'videos', 'b.mp4'), 3, 3)];
    // the single-process reference: ferkit analyze / ferkit video on the same files
    const analyzed = await cli(['analyze', join(dir, 'images'), '--format', 'jsonl', '--threads', '1']);
    for (const line of analyzed.stdout.trim().split('\n')) {
      const r = JSON.parse(line) as FileResult;
      reference.set(r.file, r);
    }
    for (const v of videos) {
      const timeline = `${v}.timeline.json`;
      const r = await cli(['video', v, '--timeline', timeline, '--threads', '1', '-q']);
      expect(r.code, r.stderr).toBe(0);
      referenceVideos.set(v, {
        timeline: JSON.parse(readFileSync(timeline, 'utf8')),
        summary: JSON.parse(readFileSync(timeline.replace(/\.json$/, '.summary.json'), 'utf8')),
      });
    }
  }, 300_000);

  afterAll(async () => {
    await redis?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('analyses every input exactly once, survives a SIGKILLed worker, and dedupes re-adds', async () => {
    const common = ['--redis', redis.url, '--queue', QUEUE];
    const addAll = ['queue', 'add', join(dir, 'images'), join(dir, 'videos'), '--segment', '1', '--json', ...common];
    const add = await cli(addAll);
    expect(add.code, add.stderr).toBe(0);
    const total = IMAGES + corrupt.length + videos.length;
    expect(JSON.parse(add.stdout)).toMatchObject({ inputs: total, added: total, known: 0, refused: [] });
    // 3 s videos at 10 fps in 1 s segments: 3 segment jobs + 1 stitch job each
    expect(JSON.parse(add.stdout).jobs).toBe(IMAGES + corrupt.length + videos.length * 4);

    const store = new QueueStore(redisClient({ port: redis.port, host: '127.0.0.1' }), QUEUE);
    const workers: CliRun[] = [0, 1, 2].map(() =>
      runCli(['worker', ...common, '--threads', '1', '--lock-seconds', '3']),
    );
    try {
      await Promise.all(workers.map((w) => w.waitForStderr(/ready/)));
      // SIGKILL one worker once the run is well under way (it holds a job at that moment)
      const waitFor = async (n: number, timeoutMs: number) => {
        const t0 = Date.now();
        while ((await store.counts()).finished < n) {
          if (Date.now() - t0 > timeoutMs) throw new Error(`only ${(await store.counts()).finished} of ${n} finished`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      await waitFor(Math.round(total / 4), 120_000);
      workers[0].child.kill('SIGKILL');
      expect(await workers[0].exited).toBeNull();
      await waitFor(total, 240_000);

      // SIGTERM: the others finish what they hold and exit cleanly
      for (const w of workers.slice(1)) w.child.kill('SIGTERM');
      for (const w of workers.slice(1)) expect(await w.exited, w.stderr()).toBe(0);
    } finally {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }

    const status = JSON.parse((await cli(['queue', 'status', '--json', ...common])).stdout);
    expect(status.inputs).toEqual({
      total,
      finished: total,
      ok: total - corrupt.length,
      failed: corrupt.length,
      pending: 0,
    });
    expect(status.jobs).toMatchObject({
      waiting: 0,
      active: 0,
      delayed: 0,
      waitingChildren: 0,
      failed: corrupt.length,
    });

    const out = join(dir, 'results.jsonl');
    const exported = await cli(['queue', 'results', '--out', out, ...common]);
    expect(exported.code, exported.stderr).toBe(0);
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FileResult | VideoRecord);
    // every input exactly once
    expect(records.map((r) => r.file).sort()).toEqual([...images, ...corrupt.map((c) => c.file), ...videos].sort());

    for (const r of records) {
      if ('timeline' in r) {
        const ref = referenceVideos.get(r.file);
        const { input: _input, ...summary } = ref?.summary ?? ({} as VideoSummary);
        expect(r.timeline).toEqual(ref?.timeline);
        expect(r.video).toEqual(summary);
        expect(r.video.faces.length).toBeGreaterThan(0);
        continue;
      }
      const ref = reference.get(r.file);
      const bad = corrupt.find((c) => c.file === r.file);
      if (bad) {
        expect(r).toMatchObject({ file: bad.file, code: bad.code });
        expect(ref).toMatchObject({ code: bad.code });
      } else expect(r).toEqual(ref); // faces, boxes, landmarks, labels and probabilities
    }
    const faces = records.reduce((n, r) => n + ('faces' in r ? r.faces.length : 0), 0);
    expect(faces).toBeGreaterThan(IMAGES / 2);

    // the corrupt files failed on their first try (no retries for what cannot succeed)
    const failedJobs = await store.redis.zrange(`bull:${QUEUE}:failed`, 0, -1);
    expect(failedJobs).toHaveLength(corrupt.length);
    for (const id of failedJobs) expect(await store.redis.hget(`bull:${QUEUE}:${id}`, 'atm')).toBe('1');

    // re-adding everything adds nothing
    const again = await cli(addAll);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, known: total, jobs: 0, refused: [] });
    store.redis.disconnect();
  }, 420_000);
});
