/**
 * Fuzzing `ferkit serve` as a black box (issue 19): seeded hostile bodies on POST /v1/analyze
 * (raw with lying Content-Types, and multipart) and frames on the WebSocket stream. Asserts: the
 * process never dies, no 5xx but a deliberate 503 (busy), every bad input a 4xx JSON with a
 * FerkitError code, refused formats named, the server healthy afterwards with flat memory.
 * FERKIT_FUZZ_N=2000 for the long mode; FERKIT_FUZZ_REPORT=FILE writes the counts and peak RSS.
 */
import { existsSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FUZZ_SEED,
  type FuzzCase,
  fuzzCases,
  fuzzCount,
  lyingHeaders,
  PHOTO,
  refusedInputs,
  seedImages,
} from './helpers/fuzz-inputs.js';
import { http, MAIN, metric, openStream, type Res, type ServerProcess, startServer } from './helpers/server.js';

const FERKIT_CODES = ['E_DECODE', 'E_TOO_LARGE', 'E_EMPTY', 'E_INPUT'];
const CONTENT_TYPES = ['application/octet-stream', 'image/jpeg', 'image/png', 'image/svg+xml', 'image/webp'];
const report: Record<string, unknown> = { seed: FUZZ_SEED };

function multipart(bytes: Buffer, name: string): { body: Buffer; type: string } {
  const boundary = `ferkitfuzz${bytes.length}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

/** The problem with one answer, or undefined when it is acceptable for this case. */
function judge(c: FuzzCase, status: number, body: Record<string, unknown> | undefined): string | undefined {
  if (status === 200) return c.kind === 'refused' ? 'a refused input was analysed' : undefined;
  if (status === 503 && body?.code === 'E_BUSY') return undefined; // deliberate load shedding
  if (status >= 500) return `5xx: ${JSON.stringify(body)}`;
  if (status < 400 || typeof body?.error !== 'string' || typeof body?.code !== 'string') return 'not a JSON 4xx';
  if (c.expectCode && body.code !== c.expectCode) return `expected ${c.expectCode}`;
  if (c.expectText && !String(body.error).includes(c.expectText)) return `error does not name ${c.expectText}`;
  if (!FERKIT_CODES.includes(body.code as string)) return `code ${body.code} is not a FerkitError code`;
  return undefined;
}

const parse = (r: Res): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(r.body.toString());
  } catch {
    return undefined;
  }
};

describe.skipIf(!existsSync(MAIN))(`ferkit serve under fuzzed input (seed ${FUZZ_SEED})`, () => {
  let server: ServerProcess;
  let seeds: Record<string, Buffer>;
  let photo: Buffer;
  let rssBefore = 0;
  const analyzePhoto = () => http(server.base, 'POST', '/v1/analyze', photo, { 'content-type': 'image/jpeg' });
  let rssPeak = 0;
  const sampleRss = async () => {
    const rss = await metric(server.base, 'process_resident_memory_bytes');
    rssPeak = Math.max(rssPeak, rss);
    return rss;
  };

  beforeAll(async () => {
    seeds = await seedImages();
    photo = await sharp(PHOTO).resize(480).jpeg().toBuffer();
    server = await startServer(['--workers', '2', '--queue', '4', '--timeout', '30000'], { testHooks: false });
    // warm up: models loaded and the allocators at their working size before the baseline
    for (let i = 0; i < 6; i++) expect((await analyzePhoto()).status).toBe(200);
    rssBefore = await sampleRss();
  }, 120_000);

  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    if (process.env.FERKIT_FUZZ_REPORT) writeFileSync(process.env.FERKIT_FUZZ_REPORT, JSON.stringify(report, null, 2));
  });

  it(`POST /v1/analyze: ${fuzzCount(400)} fuzzed bodies + every refused format and lying header`, async () => {
    const cases = [...refusedInputs(), ...lyingHeaders(seeds), ...fuzzCases(seeds, fuzzCount(400))];
    const statuses: Record<string, number> = {};
    const problems: string[] = [];
    let next = 0;
    // four clients at once against two workers and a queue of four: some 503s are expected and fine
    const client = async () => {
      while (next < cases.length) {
        const i = next++;
        const c = cases[i];
        const mp = i % 5 === 4 ? multipart(c.bytes, c.name) : undefined;
        const r = await http(server.base, 'POST', '/v1/analyze', mp?.body ?? c.bytes, {
          'content-type': mp?.type ?? CONTENT_TYPES[i % CONTENT_TYPES.length],
        });
        const body = parse(r);
        const key = `${r.status}${body?.code ? ` ${body.code}` : ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
        const problem = judge(c, r.status, body);
        if (problem) problems.push(`${c.name}: ${r.status} ${problem}`);
        if (i % 50 === 0) await sampleRss();
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    report.http = { requests: cases.length, statuses };
    console.log(`POST /v1/analyze fuzz: ${JSON.stringify(statuses)}`);
    expect(problems).toEqual([]);
    expect(server.child.exitCode).toBeNull();
    expect(statuses['200'] ?? 0).toBeGreaterThan(0);
  }, 600_000);

  it(`WebSocket /v1/stream: ${fuzzCount(90)} fuzzed frames on one socket, then a good frame still gets faces`, async () => {
    const stream = await openStream(server.base);
    const cases = [...refusedInputs().slice(0, 4), ...fuzzCases(seeds, fuzzCount(90), FUZZ_SEED + 2)];
    const results: Record<string, number> = {};
    const problems: string[] = [];
    // bursts of six: more than the four frames a socket may have pending, so E_BUSY is exercised
    for (let i = 0; i < cases.length; i += 6) {
      const burst = cases.slice(i, i + 6);
      const replies = await Promise.all(burst.map((c) => stream.send(c.bytes)));
      replies.forEach((reply, k) => {
        const status = reply.faces ? 200 : Number(reply.status);
        const key = `${status}${reply.code ? ` ${reply.code}` : ''}`;
        results[key] = (results[key] ?? 0) + 1;
        const problem = judge(burst[k], status, reply);
        if (problem) problems.push(`${burst[k].name}: ${problem}`);
      });
      if (i % 60 === 0) await sampleRss();
    }
    const text = await stream.send('not a frame');
    expect(text).toMatchObject({ code: 'E_INPUT', status: 400 });
    const good = await stream.send(photo);
    expect((good.faces as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect(stream.isOpen()).toBe(true);
    stream.close();
    report.websocket = { frames: cases.length, results };
    console.log(`WebSocket fuzz: ${JSON.stringify(results)}`);
    expect(problems).toEqual([]);
  }, 600_000);

  it('afterwards: healthy, no worker replaced, memory roughly flat', async () => {
    const health = await http(server.base, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(await metric(server.base, 'ferkit_worker_restarts_total')).toBe(0);
    for (let i = 0; i < 3; i++) expect((await analyzePhoto()).status).toBe(200);
    const rssAfter = await sampleRss();
    report.rss = { beforeMiB: rssBefore / 2 ** 20, afterMiB: rssAfter / 2 ** 20, peakMiB: rssPeak / 2 ** 20 };
    console.log(`server RSS: ${JSON.stringify(report.rss)}`);
    // allocator arenas may settle a little higher; a leak per request would not stay under this
    expect(rssAfter).toBeLessThan(Math.max(rssBefore * 1.3, rssBefore + 128 * 2 ** 20));
    expect(server.child.exitCode).toBeNull();
  });
});
