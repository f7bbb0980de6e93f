/**
 * Shared by test/web-e2e.test.ts and web/measure.mjs: start `scripts/serve-web.mjs` in a child
 * process, and launch Debian's Chromium through playwright-core with a fake camera.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.FERKIT_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumAvailable = () => existsSync(CHROMIUM);

/** Runs `node scripts/serve-web.mjs --port 0` (building what is stale) and resolves once it prints its URL. */
export function startServer({ timeoutMs = 600_000, log = () => {} } = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'serve-web.mjs'), '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    log(String(d).trimEnd());
  });
  return new Promise((ok, ko) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      ko(new Error(`serve-web did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({
          url: m[1],
          pid: child.pid,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      ko(new Error(`serve-web exited with ${code}:\n${stderr}`));
    });
  });
}

/**
 * Launches Chromium (fresh profile) and returns { context, page, close }. `camera`: a .y4m file for
 * the fake capture device; `allowCamera`: auto-accept the permission prompt (fake UI) or deny it.
 */
export async function launchBrowser({ camera, allowCamera = true, viewport = { width: 1280, height: 900 } } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'ferkit-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-device-for-media-stream',
    ...(camera ? [`--use-file-for-fake-video-capture=${camera}`] : []),
    ...(allowCamera ? ['--use-fake-ui-for-media-stream'] : ['--deny-permission-prompts']),
    // Frames keep flowing when the page is not focused or is covered.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
  ];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport,
    ignoreDefaultArgs: ['--mute-audio'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** In-page: counts overlay pixels by colour class (purple boxes, cyan points, dark bar panels). */
export function overlayPixelStats() {
  const c = document.getElementById('overlay');
  const ctx = c.getContext('2d');
  const { data } = ctx.getImageData(0, 0, c.width, c.height);
  let purple = 0;
  let cyan = 0;
  let panel = 0;
  let any = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a < 40) continue;
    any++;
    if (Math.abs(r - 160) < 30 && g < 70 && b > 200) purple++;
    else if (r < 60 && g > 190 && b > 220) cyan++;
    else if (r < 30 && g < 30 && b < 40 && a > 120 && a < 230) panel++;
  }
  return { width: c.width, height: c.height, purple, cyan, panel, any };
}
