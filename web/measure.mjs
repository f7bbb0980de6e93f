#!/usr/bin/env node
/**
 * Measures the web app in Debian's Chromium (software mode: --disable-gpu, so WASM) with the
 * synthetic fake camera (640x480, 1–3 faces):
 *   - download size: bytes the server sent for a cold load (fresh profile), by kind (JS, WASM,
 *     models, other), gzip as served, plus the raw sizes;
 *   - time to first result: navigation → models ready → first analysed frame with a face, with the
 *     camera started by the page itself (?camera=1);
 *   - FPS: the page's own counter (analysed frames/s), sampled every second after a warm-up, and
 *     the per-stage latencies it shows — for each detector × detect-every combination asked for.
 *
 *   node web/measure.mjs [--seconds 15] [--detect-every 1,3] [--detector auto,tiny_face_detector_416,ssd_mobilenetv1_320]
 *                        [--inflight 1,2] [--spin 0,1] [--backend wasm] [--threads 0] [--tta none] [--json out.json]
 *                        [--expression-every 1,2] [--repeat 1] [--sync 1]
 *
 * --detector takes the app's detector ids (/models/index.json; 'auto' = tiny for video, SSD for
 * photos; default: the app's default). The detector reported is the one used for the video.
 */
import { writeFileSync } from 'node:fs';
import { makeFakeCamera } from '../test/fixtures-web/fake-camera.mjs';
import { launchBrowser } from '../test/fixtures-web/harness.mjs';
import { buildLibrary, buildWeb, ensureModels, startWebServer } from '../scripts/serve-web.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const seconds = Number(opt('--seconds', 15));
const detectEvery = opt('--detect-every', '3').split(',').map(Number);
// each tracked face's expression every Nth frame; '' = the app's default
const expressionEvery = opt('--expression-every', '').split(',');
// run the whole matrix this many times, interleaved, so the settings compare side by side
const repeat = Number(opt('--repeat', 1));
const detectors = opt('--detector', '')
  .split(',')
  .filter(Boolean);
const backend = opt('--backend', 'auto');
const threads = Number(opt('--threads', 0));
const tta = opt('--tta', 'none');
const inflight = opt('--inflight', '2').split(',').map(Number);
const spin = opt('--spin', '0').split(',');
const jsonOut = opt('--json', null);
const sync = opt('--sync', ''); // '1': show the analysed frames instead of the live video

const log = (...a) => console.error('[measure]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

buildLibrary();
await ensureModels();
await buildWeb();
const camera = await makeFakeCamera('/tmp/ferkit-fake-camera.y4m', { fps: 30, seconds: 6 });

let responses = [];
const server = await startWebServer({ port: 0, quiet: true, onResponse: (r) => responses.push(r) });
log(`server ${server.url}, camera ${camera.path} (${camera.frames} frames)`);

const kindOf = (path) =>
  path.startsWith('/models/') && !path.endsWith('.json')
    ? 'models'
    : path.endsWith('.wasm')
      ? 'wasm'
      : /\.(m?js)(\?|$)/.test(path)
        ? 'js'
        : 'other';

const detectorList = detectors.length ? detectors : ['']; // '' = the app's default
const runs = [];
const combos = [];
for (let round = 0; round < repeat; round++)
  for (const detector of detectorList)
    for (const every of detectEvery)
      for (const inf of inflight) for (const sp of spin) for (const ee of expressionEvery) combos.push([detector, every, inf, sp, ee]);
for (const [detector, every, inf, sp, ee] of combos) {
  {
    responses = [];
    const browser = await launchBrowser({ camera: camera.path });
    const page = browser.page;
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      const query = new URLSearchParams({
        camera: '1',
        detectEvery: String(every),
        backend,
        threads: String(threads),
        tta,
        inflight: String(inf),
        spin: sp,
      });
      if (sync) query.set('sync', sync);
      if (detector) query.set('detector', detector);
      if (ee) query.set('expressionEvery', ee);
      const t0 = Date.now();
      await page.goto(`${server.url}?${query}`);
      await page.waitForFunction('window.__ferkit && window.__ferkit.firstFaceMs !== null', null, { timeout: 600_000, polling: 100 });
      const first = await page.evaluate(() => ({
        readyMs: window.__ferkit.readyMs,
        firstFaceMs: window.__ferkit.firstFaceMs,
        backend: window.__ferkit.backend,
        threads: window.__ferkit.info?.threads,
        detector: window.__ferkit.info?.videoDetector,
        loadMs: window.__ferkit.info?.loadMs,
      }));
      log(`${first.detector} every ${every}: first face after ${(first.firstFaceMs / 1000).toFixed(2)} s (wall ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      const download = { total: 0, byKind: {}, files: {} };
      for (const r of responses) {
        const path = r.path.split('?')[0];
        const k = kindOf(path);
        download.total += r.bytes;
        download.byKind[k] = (download.byKind[k] ?? 0) + r.bytes;
        download.files[path] = (download.files[path] ?? 0) + r.bytes;
      }
      await sleep(3000); // warm-up: JIT, FPS window fills
      const fps = [];
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        await sleep(1000);
        fps.push(Number(await page.evaluate(() => document.getElementById('fps')?.textContent)));
      }
      const st = await page.evaluate(() => ({
        frames: window.__ferkit.framesAnalysed,
        withFaces: window.__ferkit.framesWithFaces,
        faceCounts: window.__ferkit.faceCounts,
        cameraFps: window.__ferkit.cameraFps,
        latency: Object.fromEntries(
          [...document.querySelectorAll('#latency td')].map((td) => [td.dataset.stage, Number.parseFloat(td.textContent)]),
        ),
      }));
      const sorted = [...fps].sort((a, b) => a - b);
      const counts = st.faceCounts;
      runs.push({
        detector: first.detector.replace(/^.*\//, ''),
        detectEvery: every,
        expressionEvery: ee ? Number(ee) : await page.evaluate(() => Number(document.getElementById('expression-every').value)),
        inFlight: inf,
        spinning: sp === '1',
        backend: first.backend,
        threads: first.threads,
        readyMs: Math.round(first.readyMs),
        firstFaceMs: Math.round(first.firstFaceMs),
        modelLoadMs: Math.round(first.loadMs),
        download,
        fps: { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1], samples: fps },
        cameraFps: Math.round(st.cameraFps * 10) / 10,
        framesAnalysed: st.frames,
        facesPerFrame: Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 100) / 100,
        framesWithFaces: Math.round((counts.filter((n) => n > 0).length / counts.length) * 1000) / 1000,
        latencyMs: st.latency,
        errors,
      });
      log(`${first.detector} every ${every}: FPS median ${runs.at(-1).fps.median} (min ${sorted[0]}, max ${sorted.at(-1)}), latency ${JSON.stringify(st.latency)}`);
    } finally {
      await browser.close();
    }
  }
}
await server.close();

const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
for (const r of runs) {
  console.log(
    `${r.detector} · detector every ${r.detectEvery} frame(s) · expressions every ${r.expressionEvery} · ${r.inFlight} in flight · ${r.backend} ${r.threads} threads${r.spinning ? ' (spinning)' : ''}: ` +
      `FPS ${r.fps.median} (min ${r.fps.min}, max ${r.fps.max}; camera ${r.cameraFps}), ${r.facesPerFrame} faces/frame, ` +
      `${(r.framesWithFaces * 100).toFixed(0)}% frames with faces; ready ${(r.readyMs / 1000).toFixed(2)} s, ` +
      `first face ${(r.firstFaceMs / 1000).toFixed(2)} s; download ${mb(r.download.total)} ` +
      `(${Object.entries(r.download.byKind)
        .map(([k, v]) => `${k} ${mb(v)}`)
        .join(', ')}); latency ms ${JSON.stringify(r.latencyMs)}`,
  );
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(runs, null, 1));
process.exit(0);
