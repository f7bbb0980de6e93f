/**
 * The per-request deadline of `ferkit serve` is enforced: an analysis that holds its worker past
 * --deadline-ms gets 504 E_TIMEOUT, the worker is terminated and replaced, and the server goes on
 * answering — over HTTP and over the WebSocket stream. Real work, not a test hook: a 24 MP photo
 * mosaic annotated as PNG (~5 s of work on an idle core) and a 36 MP mosaic with ~100 faces
 * (~1.7 s), against a deadline of 700 ms that a 640×480 photo (~0.1 s) stays well under.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, http, json, MAIN, PHOTO, startServer, wsExchange } from './helpers/server.js';

const DEADLINE_MS = 700;

/** A width×height mosaic of the demo photo (3 faces per 1000×750 tile). */
async function mosaic(width: number, height: number): Promise<Buffer> {
  const tile = await sharp(PHOTO).resize(1000, 750, { fit: 'cover' }).png().toBuffer();
  const tiles = [];
  for (let top = 0; top + 750 <= height; top += 750)
    for (let left = 0; left + 1000 <= width; left += 1000) tiles.push({ input: tile, left, top });
  return sharp({ create: { width, height, channels: 3, background: '#777' } })
    .composite(tiles)
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Poll /healthz until a worker is ready again (a replaced worker loads its models first). */
async function waitHealthy(base: string, ms = 60_000): Promise<Record<string, unknown>> {
  const until = Date.now() + ms;
  for (;;) {
    const h = await http(base, 'GET', '/healthz');
    if (h.status === 200) return json(h);
    expectError(h, 503, 'E_NOT_READY');
    if (Date.now() > until) throw new Error('no worker ready again');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const deadlineKills = async (base: string) =>
  Number(
    /^ferkit_worker_deadline_kills_total (\d+)$/m.exec((await http(base, 'GET', '/metrics')).body.toString())?.[1],
  );

describe.skipIf(!existsSync(MAIN))('ferkit serve --deadline-ms', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;
  let small: Buffer;
  beforeAll(async () => {
    small = await sharp(PHOTO).resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
    server = await startServer([
      '--workers',
      '1',
      '--deadline-ms',
      String(DEADLINE_MS),
      '--max-pixels',
      '40000000',
      '--max-bytes',
      String(16 * 1024 * 1024),
    ]);
    base = server.base;
  }, 120_000);
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('an analysis past the deadline: 504 E_TIMEOUT at the deadline, the worker replaced, the next request answered', async () => {
    expect(json(await http(base, 'GET', '/v1/models')).limits.deadlineMs).toBe(DEADLINE_MS);
    expect((await http(base, 'POST', '/v1/analyze', small, { 'content-type': 'image/jpeg' })).status).toBe(200);
    const big = await mosaic(6000, 3000);
    const r = await http(base, 'POST', '/v1/analyze?annotate=1&format=png', big, { 'content-type': 'image/jpeg' });
    expectError(r, 504, 'E_TIMEOUT');
    expect(json(r).error).toMatch(new RegExp(`${DEADLINE_MS} ms`));
    // answered at the deadline, not when the work would have ended
    expect(r.ms).toBeLessThan(DEADLINE_MS + 2_000);
    expect(await deadlineKills(base)).toBe(1);
    const h = await waitHealthy(base);
    expect(h).toMatchObject({ status: 'ok', workers: 1, inFlight: 0 });
    const next = await http(base, 'POST', '/v1/analyze', small, { 'content-type': 'image/jpeg' });
    expect(next.status).toBe(200);
    expect(json(next).faces.length).toBeGreaterThanOrEqual(1);
    const m = (await http(base, 'GET', '/metrics')).body.toString();
    expect(m).toMatch(/^ferkit_worker_restarts_total 1$/m);
    expect(m).toMatch(/^ferkit_http_requests_total\{method="POST",route="\/v1\/analyze",status="504"\} 1$/m);
  }, 120_000);

  it('WebSocket: a frame past the deadline gets E_TIMEOUT, the socket stays open and the next frame is analysed', async () => {
    await waitHealthy(base);
    const huge = await mosaic(6000, 6000);
    const { replies, openAfter } = await wsExchange(base, [small, huge, small], 60_000);
    expect(openAfter).toBe(true);
    const byFrame = Object.fromEntries(replies.map((r) => [r.frame as number, r]));
    expect((byFrame[0].faces as unknown[]).length).toBeGreaterThanOrEqual(1);
    expect(byFrame[1]).toMatchObject({ code: 'E_TIMEOUT', status: 504 });
    // frame 2 waited for the replacement worker, then was analysed with the same tracker
    expect((byFrame[2].faces as { id: number }[]).map((f) => f.id).sort()).toEqual(
      (byFrame[0].faces as { id: number }[]).map((f) => f.id).sort(),
    );
    expect(await deadlineKills(base)).toBe(2);
    expect((await waitHealthy(base)).workers).toBe(1);
  }, 120_000);
});
