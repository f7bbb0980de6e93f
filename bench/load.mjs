#!/usr/bin/env node
/**
 * Load test for `ferkit serve` on loopback (127.0.0.1 only). Needs `npx tsc -p tsconfig.json` first.
 *
 *   node bench/load.mjs [--sustain S] [--overload S] [--malformed N] [--workers N] [--queue N] [--out FILE.json]
 *
 * Phases:
 *  1. sustained: autocannon, closed loop, 2 connections per worker, POST /v1/analyze with a
 *     640×480 JPEG → req/s, p50/p99 latency, non-2xx;
 *  2. overload: an open-loop generator at 4× the sustained rate for --overload seconds (one
 *     request every 1/rate s whatever the server does) → status counts, latency of 503s and of
 *     accepted requests, RSS of the server sampled every 2 s (first/last/max), /healthz
 *     throughout, server alive after;
 *  3. malformed: N requests (random bytes, truncated JPEG, wrong content type, oversize body,
 *     huge headers, multipart without a file, bad WebSocket frames incl. protocol garbage) →
 *     every one answered 4xx (WebSocket: an error message with a 4xx status, or a protocol close),
 *     /healthz 200 after;
 *  4. SIGTERM → exit code 0.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sharp from 'sharp';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    sustain: { type: 'string', default: '15' },
    overload: { type: 'string', default: '20' },
    malformed: { type: 'string', default: '1000' },
    workers: { type: 'string' },
    queue: { type: 'string' },
    'max-bytes': { type: 'string', default: String(2 * 1024 * 1024) },
    out: { type: 'string' },
  },
});
const SUSTAIN = Number(values.sustain);
const OVERLOAD = Number(values.overload);
const MALFORMED = Number(values.malformed);
const WORKERS = Number(values.workers ?? availableParallelism());
const MAX_BYTES = Number(values['max-bytes']);
const MAIN = resolve('dist/cli/main.js');
const PHOTO = resolve('node_modules/@vladmandic/face-api/demo/sample1.jpg');

const log = (...a) => console.error('[load]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** RSS of a process and all its descendants (the server's inference workers are child processes). */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    let rss = m ? Number(m[1]) * 1024 : NaN;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let children = '';
      try {
        children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch {} // the thread has ended
      for (const child of children.split(' ').filter(Boolean)) {
        const r = rssOf(Number(child));
        if (r > 0) rss += r;
      }
    }
    return rss;
  } catch {
    return NaN;
  }
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: Infinity });

function http(base, method, path, body, headers = {}, timeoutMs = 60_000, agent = keepAlive) {
  const url = new URL(path, base);
  const t0 = performance.now();
  return new Promise((res) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent,
        headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers },
        timeout: timeoutMs,
      },
      (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks), ms: performance.now() - t0 }));
        r.on('error', (e) => res({ status: 0, error: e.message, ms: performance.now() - t0 }));
      },
    );
    req.on('error', (e) => res({ status: 0, error: e.message, ms: performance.now() - t0 }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

async function startServer() {
  const args = [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--workers', String(WORKERS), '--max-bytes', String(MAX_BYTES)];
  if (values.queue) args.push('--queue', values.queue);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  for (let i = 0; i < 600; i++) {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) return { child, base: m[1], output: () => out };
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    await sleep(100);
  }
  throw new Error(`server did not start: ${out}`);
}

function cannon(opts) {
  return new Promise((res, rej) => {
    const inst = autocannon(opts, (err, r) => (err ? rej(err) : res(r)));
    autocannon.track(inst, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false, outputStream: process.stderr });
  });
}

const summarise = (r) => ({
  durationS: r.duration,
  requests: r.requests.total,
  reqPerSec: Math.round(r.requests.average * 100) / 100,
  latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: Math.round(r.latency.mean) },
  status: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
  errors: r.errors,
  timeouts: r.timeouts,
});

// ---------------------------------------------------------------------------------------------
const jpeg = await sharp(PHOTO).resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
const machine = { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
log(`machine: ${JSON.stringify(machine)}; photo 640×480 JPEG ${jpeg.length} bytes`);
const server = await startServer();
const { base, child } = server;
log(`server ${base} pid ${child.pid}: ${server.output().trim()}`);
const results = { machine, photoBytes: jpeg.length, workers: WORKERS, base };

// warm-up
for (let i = 0; i < 4; i++) {
  const r = await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' });
  if (r.status !== 200) throw new Error(`warm-up: ${r.status} ${r.body}`);
}
const probe = JSON.parse((await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' })).body);
results.facesInPhoto = probe.faces.length;
results.rssStartBytes = rssOf(child.pid);

// 1. sustained ------------------------------------------------------------------------------
const analyzeOpts = { url: `${base}/v1/analyze`, method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg, timeout: 60 };
log(`sustained: ${SUSTAIN} s, ${WORKERS * 2} connections`);
const sustained = summarise(await cannon({ ...analyzeOpts, connections: WORKERS * 2, duration: SUSTAIN }));
results.sustained = sustained;
log('sustained:', JSON.stringify(sustained));

// 2. overload -------------------------------------------------------------------------------
const rate = Math.max(1, +(sustained.reqPerSec * 4).toFixed(2));
log(`overload: ${OVERLOAD} s at ${rate} req/s (4× sustained)`);
const rss = [];
const health = { ok: 0, fail: 0 };
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    rss.push({ t: Math.round(performance.now()), rss: rssOf(child.pid) });
    const h = await http(base, 'GET', '/healthz', undefined, {}, 5000);
    if (h.status === 200) health.ok++;
    else health.fail++;
    await sleep(2000);
  }
})();
// open loop: one request every 1/rate s whatever the server does (a closed-loop client would
// slow down with the server and never overload it)
const overloadResults = [];
const t0 = performance.now();
const inflight = [];
for (let i = 0; ; i++) {
  const due = t0 + (i * 1000) / rate;
  if (due - t0 >= OVERLOAD * 1000) break;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  inflight.push(
    http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' }, 120_000).then((r) =>
      overloadResults.push({ status: r.status, ms: r.ms, retryAfter: r.headers?.['retry-after'], error: r.error }),
    ),
  );
}
const offeredS = (performance.now() - t0) / 1000;
await Promise.all(inflight);
const overWall = (performance.now() - t0) / 1000;
sampling = false;
await sampler;
const shed = overloadResults.filter((r) => r.status === 503);
const accepted = overloadResults.filter((r) => r.status === 200);
const statusCounts = overloadResults.reduce((m, r) => ((m[r.status || `error: ${r.error}`] = (m[r.status || `error: ${r.error}`] ?? 0) + 1), m), {});
const alive = child.exitCode === null;
const after = await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' });
const rssVals = rss.map((s) => s.rss).filter(Number.isFinite);
results.overload = {
  targetReqPerSec: rate,
  offeredReqPerSec: +(overloadResults.length / offeredS).toFixed(2),
  durationS: +offeredS.toFixed(1),
  drainS: +(overWall - offeredS).toFixed(1),
  requests: overloadResults.length,
  status: statusCounts,
  goodputReqPerSec: +(accepted.length / overWall).toFixed(2),
  shedLatencyMs: { n: shed.length, p50: +pct(shed.map((s) => s.ms), 50).toFixed(1), p99: +pct(shed.map((s) => s.ms), 99).toFixed(1), max: +Math.max(0, ...shed.map((s) => s.ms)).toFixed(1) },
  acceptedLatencyMs: { n: accepted.length, p50: Math.round(pct(accepted.map((s) => s.ms), 50)), p99: Math.round(pct(accepted.map((s) => s.ms), 99)), max: Math.round(Math.max(0, ...accepted.map((s) => s.ms))) },
  retryAfterSeen: [...new Set(shed.map((s) => s.retryAfter))],
  rssMiB: {
    samples: rssVals.length,
    first: +(rssVals[0] / 2 ** 20).toFixed(1),
    last: +(rssVals.at(-1) / 2 ** 20).toFixed(1),
    max: +(Math.max(...rssVals) / 2 ** 20).toFixed(1),
    min: +(Math.min(...rssVals) / 2 ** 20).toFixed(1),
  },
  healthz: health,
  serverAliveAfter: alive,
  analyzeAfter: after.status,
};
log('overload:', JSON.stringify(results.overload));

// 3. malformed ------------------------------------------------------------------------------
/** A fresh connection per malformed request (no keep-alive races after the server closes one). */
const bad = (method, path, body, headers = {}) => http(base, method, path, body, headers, 60_000, false);
const kinds = {
  'random bytes (image/jpeg)': () => bad('POST', '/v1/analyze', randomBytes(1 + Math.floor(Math.random() * 65536)), { 'content-type': 'image/jpeg' }),
  'random bytes (octet-stream)': () => bad('POST', '/v1/analyze', randomBytes(1 + Math.floor(Math.random() * 4096)), { 'content-type': 'application/octet-stream' }),
  'truncated JPEG': () => bad('POST', '/v1/analyze', jpeg.subarray(0, 2 + Math.floor(Math.random() * (jpeg.length - 200))), { 'content-type': 'image/jpeg' }),
  'empty body': () => bad('POST', '/v1/analyze', Buffer.alloc(0), { 'content-type': 'image/png' }),
  'wrong content type (json)': () => bad('POST', '/v1/analyze', '{"image":"aGVsbG8="}', { 'content-type': 'application/json' }),
  'wrong content type (text)': () => bad('POST', '/v1/analyze', 'hello', { 'content-type': 'text/plain' }),
  'wrong content type (form)': () => bad('POST', '/v1/analyze', jpeg, { 'content-type': 'application/x-www-form-urlencoded' }),
  'no content type': () => bad('POST', '/v1/analyze', jpeg),
  'invalid JSON': () => bad('POST', '/v1/analyze', '{"a":', { 'content-type': 'application/json' }),
  'oversize body': () => rawRequest('POST', '/v1/analyze', Buffer.alloc(MAX_BYTES + 1024, 1), { 'content-type': 'image/jpeg' }),
  'oversize content-length, short body': () => bad('POST', '/v1/analyze', Buffer.alloc(10), { 'content-type': 'image/jpeg', 'content-length': String(MAX_BYTES * 4) }),
  'huge headers': () => bad('POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg', 'x-junk': 'x'.repeat(32 * 1024) }),
  'multipart without file': () => {
    const b = '--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--XyZ--\r\n';
    return bad('POST', '/v1/analyze', b, { 'content-type': 'multipart/form-data; boundary=XyZ' });
  },
  'multipart with garbage file': () => {
    const b = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'),
      randomBytes(2048),
      Buffer.from('\r\n--XyZ--\r\n'),
    ]);
    return bad('POST', '/v1/analyze', b, { 'content-type': 'multipart/form-data; boundary=XyZ' });
  },
  'broken multipart': () => bad('POST', '/v1/analyze', '--nope\r\ngarbage', { 'content-type': 'multipart/form-data; boundary=XyZ' }),
  'bad query (format)': () => bad('POST', '/v1/analyze?annotate=1&format=bmp', jpeg, { 'content-type': 'image/jpeg' }),
  'bad query (timeout)': () => bad('POST', '/v1/analyze?timeout=-5', jpeg, { 'content-type': 'image/jpeg' }),
  'unknown route': () => bad('GET', `/v1/${randomBytes(4).toString('hex')}`),
  'plain GET on the WebSocket route': () => bad('GET', '/v1/stream'),
};

/**
 * One request on a raw socket that keeps reading while it writes: a server may answer an oversize
 * body with 413 and close before the client has sent it all, and node:http's client then reports the
 * write's EPIPE instead of the answer that already arrived. Resolves like http() (status, or error).
 */
function rawRequest(method, path, body, headers = {}) {
  return new Promise((res) => {
    const url = new URL(base);
    const t0 = performance.now();
    const s = connect(Number(url.port), url.hostname);
    let got = '';
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      res({ ...r, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish({ status: 0, error: 'timeout' }), 60_000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m && got.includes('\r\n\r\n')) finish({ status: Number(m[1]) });
    });
    s.on('error', () => {}); // EPIPE/ECONNRESET while writing: the answer may still be in `got`
    s.on('close', () => finish({ status: 0, error: got ? 'unparsable response' : 'closed without a response' }));
    s.on('connect', () => {
      const head = [`${method} ${path} HTTP/1.1`, `host: ${url.host}`, `content-length: ${body.length}`];
      for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
      s.write(`${head.join('\r\n')}\r\n\r\n`);
      s.write(body);
    });
  });
}

/** Bad WebSocket traffic on one connection: n frames; each reply must carry a 4xx status. */
function wsBadFrames(n) {
  return new Promise((res) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/stream`);
    const statuses = [];
    let sent = 0;
    const next = () => {
      if (sent >= n) return;
      const k = sent++ % 3;
      if (k === 0) ws.send(randomBytes(100 + Math.floor(Math.random() * 2000)));
      else if (k === 1) ws.send('not a frame', { binary: false });
      else ws.send(jpeg.subarray(0, 100 + Math.floor(Math.random() * 1000)));
    };
    const timer = setTimeout(() => {
      ws.terminate();
      res({ statuses, complete: false });
    }, 60_000);
    ws.on('open', () => next());
    ws.on('message', (m) => {
      const j = JSON.parse(m.toString());
      statuses.push(j.status ?? (j.faces ? 200 : 0));
      if (statuses.length === n) {
        clearTimeout(timer);
        const open = ws.readyState === WebSocket.OPEN;
        ws.close();
        res({ statuses, complete: true, openAfter: open });
      } else next();
    });
    ws.on('error', () => {});
  });
}

/** Protocol-level garbage after a valid upgrade (unmasked frame, reserved opcode): the server must close, not crash. */
function wsProtocolGarbage(kind) {
  return new Promise((res) => {
    const url = new URL(base);
    const s = connect(Number(url.port), url.hostname);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      res({ closed: false });
    }, 10_000);
    s.on('connect', () => {
      s.write(
        'GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let upgraded = false;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (!upgraded && buf.includes('\r\n\r\n')) {
        upgraded = buf.startsWith('HTTP/1.1 101');
        if (kind === 'unmasked') s.write(Buffer.from([0x82, 0x03, 1, 2, 3])); // client frames must be masked
        else if (kind === 'opcode') s.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0])); // reserved opcode 3
        else s.write(randomBytes(64));
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      // the close frame the server sent: 0x88, len, code
      const i = buf.indexOf('\x88');
      const code = i >= 0 ? (buf.charCodeAt(i + 2) << 8) | buf.charCodeAt(i + 3) : undefined;
      res({ closed: true, upgraded, closeCode: code });
    });
    s.on('error', () => {});
  });
}

log(`malformed: ${MALFORMED} requests`);
const names = Object.keys(kinds);
const wsShare = Math.round(MALFORMED * 0.1);
const wsProto = 30;
const httpN = MALFORMED - wsShare - wsProto;
const byKind = {};
const failures = [];
let idx = 0;
const tm = performance.now();
await Promise.all(
  Array.from({ length: 4 }, async () => {
    for (;;) {
      const i = idx++;
      if (i >= httpN) break;
      const name = names[i % names.length];
      const r = await kinds[name]();
      await sleep(0);
      const k = (byKind[name] ??= {});
      const s = r.status || `error: ${r.error}`;
      k[s] = (k[s] ?? 0) + 1;
      if (!(r.status >= 400 && r.status < 500)) failures.push({ name, status: r.status, error: r.error, body: r.body?.toString().slice(0, 200) });
    }
  }),
);
const wsRuns = [];
for (let i = 0; i < 5; i++) wsRuns.push(await wsBadFrames(Math.ceil(wsShare / 5)));
const wsStatuses = wsRuns.flatMap((r) => r.statuses);
const protoRuns = [];
for (let i = 0; i < wsProto; i++) protoRuns.push(await wsProtocolGarbage(['unmasked', 'opcode', 'random'][i % 3]));
const healthAfter = await http(base, 'GET', '/healthz');
const goodAfter = await http(base, 'POST', '/v1/analyze', jpeg, { 'content-type': 'image/jpeg' });
results.malformed = {
  total: httpN + wsStatuses.length + protoRuns.length,
  seconds: +((performance.now() - tm) / 1000).toFixed(1),
  http: { n: httpN, byKind, non4xx: failures.length, examples: failures.slice(0, 5) },
  wsFrames: {
    n: wsStatuses.length,
    statuses: wsStatuses.reduce((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {}),
    allAnswered: wsRuns.every((r) => r.complete),
    socketsStayedOpen: wsRuns.every((r) => r.openAfter),
  },
  wsProtocolGarbage: {
    n: protoRuns.length,
    closedByServer: protoRuns.filter((r) => r.closed).length,
    closeCodes: protoRuns.reduce((m, r) => ((m[r.closeCode ?? 'none'] = (m[r.closeCode ?? 'none'] ?? 0) + 1), m), {}),
  },
  healthzAfter: healthAfter.status,
  analyzeAfter: goodAfter.status,
  serverAlive: child.exitCode === null,
};
log('malformed:', JSON.stringify(results.malformed));
results.rssEndBytes = rssOf(child.pid);

// 4. graceful stop ---------------------------------------------------------------------------
const exited = new Promise((r) => child.on('exit', (code) => r(code)));
child.kill('SIGTERM');
results.exitCode = await exited;
const ok =
  results.overload.serverAliveAfter &&
  results.overload.analyzeAfter === 200 &&
  results.malformed.http.non4xx === 0 &&
  results.malformed.wsFrames.allAnswered &&
  Object.keys(results.malformed.wsFrames.statuses).every((s) => s >= 400 && s < 500) &&
  results.malformed.wsProtocolGarbage.closedByServer === protoRuns.length &&
  results.malformed.healthzAfter === 200 &&
  results.exitCode === 0;
results.pass = ok;
const text = JSON.stringify(results, null, 2);
console.log(text);
if (values.out) writeFileSync(values.out, text + '\n');
process.exitCode = ok ? 0 : 1;
