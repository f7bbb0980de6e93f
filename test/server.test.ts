/**
 * `ferkit serve` as a child process on an ephemeral loopback port (needs `npx tsc` first: the
 * worker threads run dist/server/worker.js). One worker, queue 1, test hooks on
 * (FERKIT_SERVER_TEST_HOOKS=1: `x-ferkit-test-delay` / `x-ferkit-test-crash` headers).
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, http, json, MAIN, PHOTO, startServer, wsExchange } from './helpers/server.js';

const MAX_BYTES = 1_500_000;
const MAX_PIXELS = 3_000_000;

describe.skipIf(!existsSync(MAIN))('ferkit serve', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await sharp(PHOTO).resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
    server = await startServer([
      '--workers',
      '1',
      '--queue',
      '1',
      '--timeout',
      '30000',
      '--max-bytes',
      String(MAX_BYTES),
      '--max-pixels',
      String(MAX_PIXELS),
    ]);
    base = server.base;
  });
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('GET /healthz, /openapi.json, /v1/models', async () => {
    const h = await http(base, 'GET', '/healthz');
    expect(h.status).toBe(200);
    expect(json(h).status).toBe('ok');
    const doc = json(await http(base, 'GET', '/openapi.json'));
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/analyze', '/v1/models', '/v1/stream', '/healthz', '/metrics']),
    );
    const models = json(await http(base, 'GET', '/v1/models'));
    expect(models.expression.name).toBeTruthy();
    expect(models.limits).toMatchObject({ maxBytes: MAX_BYTES, maxPixels: MAX_PIXELS, deadlineMs: 15_000 });
    expectError(await http(base, 'GET', '/nope'), 404, 'E_NOT_FOUND');
    expectError(await http(base, 'GET', '/v1/stream'), 426, 'E_UPGRADE_REQUIRED');
  });

  it('the OpenAPI document is generated from the routes: every route, the analyze schemas, Swagger UI at /docs', async () => {
    const doc = json(await http(base, 'GET', '/openapi.json'));
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/metrics', '/openapi.json', '/v1/analyze', '/v1/models', '/v1/stream'].sort(),
    );
    const analyze = doc.paths['/v1/analyze'].post;
    expect(Object.keys(analyze.requestBody.content)).toEqual(
      expect.arrayContaining(['image/jpeg', 'image/png', 'application/octet-stream', 'multipart/form-data']),
    );
    expect(analyze.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['annotate', 'format', 'timeout']);
    expect(analyze.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AnalysisResult',
    });
    expect(Object.keys(analyze.responses).sort()).toEqual(['200', '400', '413', '415', '500', '503', '504']);
    const { AnalysisResult, Face, Error: ErrorSchema } = doc.components.schemas;
    expect(AnalysisResult.required).toEqual(['width', 'height', 'faces', 'timings']);
    expect(Face.properties.landmarks).toMatchObject({ minItems: 68, maxItems: 68 });
    expect(ErrorSchema.required).toEqual(['error', 'code']);
    expect(doc.paths['/v1/stream'].get.responses['426']).toBeTruthy();
    // the query schema is the one the route enforces
    const bad = await http(base, 'POST', '/v1/analyze?timeout=0', jpeg, { 'content-type': 'image/jpeg' });
    expectError(bad, 400, 'E_REQUEST');
    expect(json(bad).error).toMatch(/timeout/);
    // and the answer has exactly the documented fields
    const r = json(await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' }));
    expect(Object.keys(r).sort()).toEqual(Object.keys(AnalysisResult.properties).sort());
    expect(Object.keys(r.faces[0]).sort()).toEqual([...Face.required].sort());
    const ui = await http(base, 'GET', '/docs');
    expect(ui.status).toBe(200);
    expect(String(ui.headers['content-type'])).toMatch(/^text\/html/);
    expect(ui.body.toString()).toMatch(/swagger/i);
    // the UI's scripts are served by the server itself (no CDN)
    const bundle = /src="(\/docs\/static\/swagger-ui-bundle\.js)"/.exec(ui.body.toString());
    expect(bundle).not.toBeNull();
    const js = await http(base, 'GET', bundle![1]);
    expect(js.status).toBe(200);
    expect(js.body.length).toBeGreaterThan(100_000);
    expect(json(await http(base, 'GET', '/docs/json')).paths).toEqual(doc.paths);
  }, 60_000);

  it('POST /v1/analyze: raw body and multipart → { width, height, faces, timings }; annotate=1 → JPEG / PNG', async () => {
    const r = await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' });
    expect(r.status).toBe(200);
    const j = json(r);
    expect(Object.keys(j).sort()).toEqual(['faces', 'height', 'timings', 'width']);
    expect([j.width, j.height]).toEqual([640, 480]);
    expect(j.faces.length).toBeGreaterThanOrEqual(1);
    expect(j.faces[0].landmarks).toHaveLength(68);
    expect(
      Object.values(j.faces[0].expression.probabilities as Record<string, number>).reduce((s, v) => s + v, 0),
    ).toBeCloseTo(1, 2);
    expect(j.timings.total).toBeGreaterThan(0);

    const octet = await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'application/octet-stream' });
    expect(json(octet).faces.length).toBe(j.faces.length);

    const form = new FormData();
    form.append('note', 'hello');
    form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), 'photo.jpg');
    const m = await fetch(`${base}/v1/analyze`, { method: 'POST', body: form });
    expect(m.status).toBe(200);
    expect(((await m.json()) as { faces: unknown[] }).faces.length).toBe(j.faces.length);

    const a = await http(base, 'POST', '/v1/analyze?annotate=1', jpeg, { 'content-type': 'image/jpeg' });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(a.body).metadata()).toMatchObject({ format: 'jpeg', width: 640, height: 480 });
    const p = await http(base, 'POST', '/v1/analyze?annotate=1&format=png', jpeg, { 'content-type': 'image/jpeg' });
    expect(p.headers['content-type']).toBe('image/png');
    expect((await sharp(p.body).metadata()).format).toBe('png');
  }, 60_000);

  it('an oversize body on a keep-alive connection: the 413 arrives while the body is still being sent, and the connection serves the next request', async () => {
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    const body = Buffer.alloc(MAX_BYTES * 4, 1);
    socket.write(
      `POST /v1/analyze HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: image/jpeg\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    // Send the body slowly in chunks: the answer comes before the end of the upload.
    for (let off = 0; off < body.length; off += 256 * 1024) {
      socket.write(body.subarray(off, off + 256 * 1024));
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (!/\r\n\r\n\{[^}]*\}/.test(received) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toContain('E_TOO_LARGE');
    expect(received.toLowerCase()).not.toContain('connection: close');
    // The same connection, drained by the server, answers the next request.
    received = '';
    socket.write(`GET /healthz HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    while (!/^HTTP\/1\.1 200 /.test(received) && Date.now() < deadline + 10_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    socket.destroy();
  });

  it('413 over the byte or pixel limit, 415 wrong content type, 400 undecodable (JSON { error, code })', async () => {
    const big = Buffer.alloc(MAX_BYTES + 10, 7);
    expectError(await http(base, 'POST', '/v1/analyze', big, { 'content-type': 'image/jpeg' }), 413, 'E_TOO_LARGE');
    const form = new FormData();
    form.append('file', new Blob([big], { type: 'image/jpeg' }), 'big.jpg');
    const mf = await fetch(`${base}/v1/analyze`, { method: 'POST', body: form });
    expect(mf.status).toBe(413);
    expect(((await mf.json()) as { code: string }).code).toBe('E_TOO_LARGE');
    const huge = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    expect(huge.length).toBeLessThan(MAX_BYTES);
    expectError(await http(base, 'POST', '/v1/analyze', huge, { 'content-type': 'image/png' }), 413, 'E_TOO_LARGE');

    expectError(
      await http(base, 'POST', '/v1/analyze', '{"image":"x"}', { 'content-type': 'application/json' }),
      415,
      'E_MEDIA_TYPE',
    );
    expectError(
      await http(base, 'POST', '/v1/analyze', 'hello', { 'content-type': 'text/plain' }),
      415,
      'E_MEDIA_TYPE',
    );
    expectError(
      await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'application/x-whatever' }),
      415,
      'E_MEDIA_TYPE',
    );
    expectError(await http(base, 'POST', '/v1/analyze', jpeg), 415, 'E_MEDIA_TYPE');

    expectError(
      await http(base, 'POST', '/v1/analyze', Buffer.from('definitely not an image'), { 'content-type': 'image/jpeg' }),
      400,
      'E_DECODE',
    );
    expectError(
      await http(base, 'POST', '/v1/analyze', jpeg.subarray(0, jpeg.length >> 1), { 'content-type': 'image/jpeg' }),
      400,
      'E_DECODE',
    );
    const empty = await http(base, 'POST', '/v1/analyze', Buffer.alloc(0), { 'content-type': 'image/jpeg' });
    expect(empty.status).toBe(400);
    const noFile = new FormData();
    noFile.append('note', 'no file here');
    expect((await fetch(`${base}/v1/analyze`, { method: 'POST', body: noFile })).status).toBe(400);
    expectError(
      await http(base, 'POST', '/v1/analyze', '--nope\r\ngarbage', {
        'content-type': 'multipart/form-data; boundary=XyZ',
      }),
      400,
    );
    expectError(
      await http(base, 'POST', '/v1/analyze?format=gif&annotate=1', jpeg, { 'content-type': 'image/jpeg' }),
      400,
    );
  }, 60_000);

  it('503 with Retry-After when the queue (1) is full; 504 past the deadline', async () => {
    // each request holds the single worker ~1.2 s: 1 runs, 1 waits, the rest are shed at once
    const flood = await Promise.all(
      Array.from({ length: 8 }, () =>
        http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg', 'x-ferkit-test-delay': '1200' }),
      ),
    );
    const ok = flood.filter((r) => r.status === 200);
    const shed = flood.filter((r) => r.status === 503);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + shed.length).toBe(8);
    expect(shed.length).toBeGreaterThanOrEqual(5);
    for (const r of shed) {
      expectError(r, 503, 'E_BUSY');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.ms).toBeLessThan(2000); // shed without waiting for a worker (each holds it 1.2 s)
    }
    const t = await http(base, 'POST', '/v1/analyze?timeout=50', jpeg, {
      'content-type': 'image/jpeg',
      'x-ferkit-test-delay': '500',
    });
    expectError(t, 504, 'E_TIMEOUT');
  }, 60_000);

  it('a crashing worker fails its request with 500 and is replaced', async () => {
    // wait for the worker to be free (the 504's task finishes in the background)
    for (let i = 0; i < 50 && json(await http(base, 'GET', '/healthz')).inFlight > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expectError(
      await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg', 'x-ferkit-test-crash': '1' }),
      500,
      'E_WORKER',
    );
    let ok = false;
    for (let i = 0; i < 120 && !ok; i++) {
      const r = await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' });
      ok = r.status === 200;
      if (!ok) await new Promise((res) => setTimeout(res, 250));
    }
    expect(ok).toBe(true);
    const metrics = (await http(base, 'GET', '/metrics')).body.toString();
    expect(metrics).toMatch(/^ferkit_worker_restarts_total 1$/m);
  }, 90_000);

  it('GET /metrics: request counts by route/status, latency histogram, queue, in-flight, workers, RSS', async () => {
    const r = await http(base, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(String(r.headers['content-type'])).toMatch(/^text\/plain/);
    const t = r.body.toString();
    expect(t).toMatch(/^ferkit_http_requests_total\{method="POST",route="\/v1\/analyze",status="200"\} \d+$/m);
    expect(t).toMatch(/^ferkit_http_requests_total\{method="POST",route="\/v1\/analyze",status="503"\} \d+$/m);
    expect(t).toMatch(/^ferkit_http_requests_total\{method="POST",route="\/v1\/analyze",status="413"\} \d+$/m);
    // (prom-client writes the le label first; label order carries no meaning in the format)
    expect(t).toMatch(
      /^ferkit_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/v1\/analyze"\} \d+$/m,
    );
    expect(t).toMatch(/^# TYPE ferkit_http_request_duration_seconds histogram$/m);
    for (const g of ['ferkit_queue_depth', 'ferkit_in_flight', 'ferkit_workers', 'process_resident_memory_bytes'])
      expect(t).toMatch(new RegExp(`^${g} \\d+$`, 'm'));
    expect(t).toMatch(/^ferkit_workers 1$/m);
    // the worker is a process of its own, with the models loaded: well over 50 MB
    expect(Number(/^ferkit_workers_resident_memory_bytes (\d+)$/m.exec(t)?.[1])).toBeGreaterThan(50e6);
    expect(String(r.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    // prom-client's default process and Node metrics
    for (const m of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'])
      expect(t).toMatch(new RegExp(`^${m} [\\d.e+-]+$`, 'm'));
    expect(t).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });

  it('WebSocket /v1/stream: tracked faces per frame, errors for bad frames, socket stays open', async () => {
    const cropped = await sharp(jpeg).extract({ left: 0, top: 0, width: 634, height: 480 }).toBuffer();
    const shifted = await sharp(cropped).extend({ left: 6, background: '#000' }).jpeg({ quality: 90 }).toBuffer();
    expect((await sharp(shifted).metadata()).width).toBe(640);
    const { replies, openAfter } = await wsExchange(base, [
      jpeg,
      Buffer.from('garbage bytes'),
      'a text frame',
      shifted,
    ]);
    expect(openAfter).toBe(true);
    const byFrame = Object.fromEntries(replies.map((r) => [r.frame as number, r]));
    const f0 = byFrame[0] as {
      faces: { id: number; box: { x: number }; probabilities: Record<string, number> }[];
      width: number;
    };
    expect(f0.width).toBe(640);
    expect(f0.faces.length).toBeGreaterThanOrEqual(1);
    expect(byFrame[1]).toMatchObject({ code: 'E_DECODE' });
    expect(typeof byFrame[1].error).toBe('string');
    expect(byFrame[2]).toMatchObject({ code: 'E_INPUT' });
    const f3 = byFrame[3] as typeof f0;
    // the same faces, moved 6 px: the per-connection tracker keeps their ids (a face is the same one
    // where its box moved by about the shift; a weak box in the blurred background may come and go)
    const sameFaces = f3.faces.flatMap((g) =>
      f0.faces.filter((f) => Math.abs(g.box.x - f.box.x - 6) < 12).map((f) => [f, g]),
    );
    expect(sameFaces.length).toBeGreaterThanOrEqual(3);
    for (const [f, g] of sameFaces) expect(g.id).toBe(f.id);
    // a new connection has its own tracker: ids start again
    const again = await wsExchange(base, [jpeg]);
    expect((again.replies[0].faces as { id: number }[]).map((f) => f.id).sort()).toEqual(
      f0.faces.map((f) => f.id).sort(),
    );
  }, 60_000);

  it('SIGTERM: finishes the in-flight request, refuses new work, exits 0', async () => {
    const inflight = http(base, 'POST', '/v1/analyze', jpeg, {
      'content-type': 'image/jpeg',
      'x-ferkit-test-delay': '1500',
      connection: 'close',
    });
    await new Promise((r) => setTimeout(r, 400));
    const exited = new Promise<number | null>((r) => server.child.on('exit', (code) => r(code)));
    server.child.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(json(res).faces.length).toBeGreaterThanOrEqual(1);
    const code = await exited;
    expect(code).toBe(0);
    expect(server.output()).toMatch(/SIGTERM: finishing in-flight/);
    await expect(http(base, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);
});
