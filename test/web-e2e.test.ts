/**
 * End-to-end test of the web app (web/, served by scripts/serve-web.mjs) in Debian's Chromium via
 * playwright-core, with a synthetic fake camera (.y4m panning over face-api's demo photos).
 *
 *   1. camera: faces found in most frames, boxes/points/bars drawn on the overlay canvas, shown
 *      probabilities sum to 1 per face, FPS counter ≥ FERKIT_WEB_MIN_FPS (default 10) in software
 *      (WASM) mode, JSON/CSV export; screenshot /tmp/ferkit-web.png.
 *   2. camera permission denied: the page says so, and analysing a photo file still works;
 *      screenshot /tmp/ferkit-web-denied.png.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it) — skipped otherwise.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPRESSION_MODEL } from '../src/expression/default-model.js';
import { DEFAULT_LANDMARK_MODEL } from '../src/landmarks/default-model.js';
// @ts-expect-error plain .mjs helpers shared with web/measure.mjs
import { makeFakeCamera } from './fixtures-web/fake-camera.mjs';
// @ts-expect-error plain .mjs helpers shared with web/measure.mjs
import {
  CHROMIUM,
  chromiumAvailable,
  launchBrowser,
  overlayPixelStats,
  ROOT,
  startServer,
} from './fixtures-web/harness.mjs';

const hasChromium = chromiumAvailable();
// Issue 4 asks for ≥ 10 fps on the 2-core machine in software mode, and that is the gate. With
// expressions classified every 2nd frame per face (the app's default) this test read medians of
// 14.6, 16.5 and 17.2 on the idle machine (2026-11-28, lowest single reading 13.2); with the int8
// expression model (2026-11-29) two fresh-clone CI runs read counters of 16.7–24 and 16.8–21.1. A
// slower machine can lower the gate with FERKIT_WEB_MIN_FPS.
const MIN_FPS = Number(process.env.FERKIT_WEB_MIN_FPS ?? 10);
const SAMPLE = join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo', 'sample1.jpg');

if (!hasChromium) {
  console.warn(
    `web-e2e: SKIPPED — ${CHROMIUM} not found. Install it with \`apt-get install chromium\` (.ci/run does).`,
  );
}

interface PageState {
  ready: boolean;
  backend: string;
  fps: number;
  cameraFps: number;
  facesSeen: number;
  maxId: number;
  source: string | null;
  framesAnalysed: number;
  framesWithFaces: number;
  faceCounts: number[];
  messages: { key: string; kind: string; text: string }[];
  info: { landmarks: string; detector: string; videoDetector: string } | null;
  lastResult: {
    width: number;
    height: number;
    faces: { id?: number; expression: { label: string; probabilities: Record<string, number> } }[];
  } | null;
}

type Page = {
  goto(url: string): Promise<unknown>;
  evaluate<T>(fn: (() => T) | string): Promise<T>;
  waitForFunction(fn: string, arg?: unknown, options?: { timeout?: number; polling?: number }): Promise<unknown>;
  click(selector: string): Promise<void>;
  setInputFiles(selector: string, files: string): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: string, cb: (x: { text?: () => string; message?: string; type?: () => string }) => void): void;
};

const pageState = (page: Page) => page.evaluate(() => (window as unknown as { __ferkit: PageState }).__ferkit);

/** Per face on the page's face panel: the displayed probabilities (data-prob) and percentage texts. */
const shownProbabilities = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#faces .face')].map((face) =>
      [...face.querySelectorAll<HTMLElement>('.p')].map((row) => ({
        prob: Number(row.dataset.prob),
        pct: Number.parseFloat(row.querySelector('.pct')?.textContent ?? 'NaN'),
      })),
    ),
  );

/** The overlay canvas must cover exactly the picture shown (live video or still canvas), at its aspect ratio. */
async function expectOverlayOnPicture(page: Page): Promise<void> {
  const g = await page.evaluate(() => {
    const overlay = document.getElementById('overlay') as HTMLCanvasElement;
    const media = [...document.querySelectorAll<HTMLElement>('.media')].filter((e) => !e.hidden);
    const r = (e: Element) => {
      const b = e.getBoundingClientRect();
      return [b.x, b.y, b.width, b.height];
    };
    return { overlay: r(overlay), media: media.map(r), aspect: overlay.width / overlay.height };
  });
  expect(g.media).toHaveLength(1);
  for (let i = 0; i < 4; i++) expect(Math.abs(g.overlay[i] - g.media[0][i])).toBeLessThan(1.5);
  expect(Math.abs(g.overlay[2] / g.overlay[3] - g.aspect)).toBeLessThan(0.01);
}

describe.skipIf(!hasChromium)('web app in Chromium', () => {
  let server: { url: string; stop(): Promise<void> };
  let camera: { path: string; frames: number };
  const logs: string[] = [];

  beforeAll(async () => {
    [server, camera] = await Promise.all([
      startServer({ log: (l: string) => logs.push(l) }),
      makeFakeCamera('/tmp/ferkit-fake-camera.y4m', { fps: 30, seconds: 6 }),
    ]);
  }, 900_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('analyses the fake camera live: faces, overlay, probabilities, FPS, export', async () => {
    const browser = await launchBrowser({ camera: camera.path });
    const page = browser.page as unknown as Page;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e.message)));
    try {
      await page.goto(server.url);
      await page.waitForFunction('window.__ferkit && window.__ferkit.ready', null, { timeout: 300_000 });
      let s = await pageState(page);
      // Software mode: headless Chromium with --disable-gpu has no WebGPU adapter; the page says so.
      expect(s.backend).toBe('wasm');
      expect(s.messages.find((m) => m.key === 'webgpu')?.text).toMatch(/WebGPU.*WASM/);
      // ferkit's own landmark model is the browser's default (served from models/ beside face-api's).
      expect(s.info?.landmarks).toMatch(new RegExp(`/${DEFAULT_LANDMARK_MODEL}\\.onnx$`));
      // ferkit's default detector, BlazeFace, for photos ("auto": the tiny detector for live video).
      expect(s.info?.detector).toMatch(/\/blazeface_back\.onnx$/);
      expect(s.info?.videoDetector).toMatch(/\/tiny_face_detector_\d+\.onnx$/);

      await page.click('[data-testid=camera-start]');
      await page.waitForFunction('window.__ferkit.framesAnalysed >= 20', null, { timeout: 300_000, polling: 500 });
      // Let the FPS window fill with steady-state frames, then read the counter over one full loop
      // of the fake camera (6 s: shots of 1–3 faces), so the median covers every shot.
      await new Promise((r) => setTimeout(r, 3000));
      const fpsReadings: number[] = [];
      for (let i = 0; i < 12; i++) {
        fpsReadings.push(Number(await page.evaluate(() => document.getElementById('fps')?.textContent)));
        await new Promise((r) => setTimeout(r, 500));
      }
      s = await pageState(page);
      const counts = s.faceCounts;
      const withFaces = counts.filter((n) => n >= 1).length / counts.length;
      console.log(
        `web-e2e camera: ${s.framesAnalysed} frames analysed, faces per frame ${JSON.stringify(counts.slice(-30))}, ` +
          `${(withFaces * 100).toFixed(0)}% with faces, ${s.maxId} ids for ${s.facesSeen} faces, FPS counter ${JSON.stringify(fpsReadings)}, camera ${s.cameraFps.toFixed(1)} fps`,
      );
      expect(s.source).toBe('camera');
      expect(withFaces).toBeGreaterThanOrEqual(0.8);
      // Stable ids: tracks persist across frames (new ids only at shot cuts and for new faces).
      expect(s.maxId).toBeLessThanOrEqual(Math.max(6, 0.35 * s.facesSeen));
      expect(Math.max(...counts)).toBeLessThanOrEqual(4);

      // Probabilities: each face's shown probabilities sum to 1 (and its rounded percentages to ~100).
      const last = s.lastResult!;
      expect(last.width).toBe(640);
      expect(last.height).toBe(480);
      for (const f of last.faces) {
        const sum = Object.values(f.expression.probabilities).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(1, 4);
        expect(f.id).toBeGreaterThan(0);
      }
      const shown = await shownProbabilities(page);
      expect(shown.length).toBeGreaterThan(0);
      for (const face of shown) {
        expect(face).toHaveLength(7);
        expect(face.reduce((a, r) => a + r.prob, 0)).toBeCloseTo(1, 4);
        expect(Math.abs(face.reduce((a, r) => a + r.pct, 0) - 100)).toBeLessThan(0.5);
      }

      // The overlay: on the picture, purple boxes, cyan points, dark bar panels; the toggles remove points and bars.
      await expectOverlayOnPicture(page);
      const px = await page.evaluate(overlayPixelStats);
      console.log(`web-e2e overlay pixels: ${JSON.stringify(px)}`);
      expect(px.purple).toBeGreaterThan(300);
      expect(px.cyan).toBeGreaterThan(50);
      expect(px.panel).toBeGreaterThan(2000);
      // The screenshot for people: "show analysed frames" puts each frame under its own overlay (the
      // live view trails the video by the end-to-end latency), then back to live video.
      await page.click('#sync');
      const synced = (await pageState(page)).framesAnalysed;
      await page.waitForFunction(`window.__ferkit.framesAnalysed > ${synced + 3}`, null, { timeout: 10_000 });
      await expectOverlayOnPicture(page);
      // Shoot a frame that shows faces (a shot cut can leave one analysed frame without any).
      await page.waitForFunction('window.__ferkit.lastResult.faces.length > 0', null, {
        timeout: 10_000,
        polling: 'raf',
      });
      await page.screenshot({ path: '/tmp/ferkit-web.png', fullPage: true });
      await page.click('#sync');

      const before = (await pageState(page)).framesAnalysed;
      await page.click('[data-testid=show-points]');
      await page.click('[data-testid=show-bars]');
      await page.waitForFunction(`window.__ferkit.framesAnalysed > ${before + 1}`, null, { timeout: 10_000 });
      // Sample overlays drawn after the toggles until one shows a face (the fake camera has shot cuts
      // with no face for a frame or two): none may show points or bar panels.
      let off = await page.evaluate(overlayPixelStats);
      for (let i = 0; i < 40 && off.purple === 0; i++) {
        expect(off.cyan).toBe(0);
        await new Promise((r) => setTimeout(r, 100));
        off = await page.evaluate(overlayPixelStats);
      }
      expect(off.cyan).toBe(0);
      expect(off.panel).toBeLessThan(px.panel / 10);
      expect(off.purple).toBeGreaterThan(0);
      await page.click('[data-testid=show-points]');
      await page.click('[data-testid=show-bars]');

      // Export: CSV has a header and one row per face; JSON lists the frames.
      const csv = await page.evaluate(() =>
        (window as unknown as { __ferkitExport: { csv(): string } }).__ferkitExport.csv(),
      );
      expect(csv.split('\n')[0]).toBe(
        'frame,source,time_ms,detected,face_id,x,y,width,height,score,label,angry,disgust,fear,happy,sad,surprise,neutral',
      );
      expect(csv.trim().split('\n').length).toBeGreaterThan(10);
      const json = JSON.parse(
        await page.evaluate(() => (window as unknown as { __ferkitExport: { json(): string } }).__ferkitExport.json()),
      );
      expect(json.frames.length).toBeGreaterThan(10);
      // The app's default classifies each face's expression every 2nd frame: both kinds are recorded.
      const recorded = (json.frames as { faces: { expressionReused?: boolean }[] }[]).flatMap((f) => f.faces);
      const reusedShare = recorded.filter((f) => f.expressionReused).length / recorded.length;
      expect(reusedShare).toBeGreaterThan(0.2);
      expect(reusedShare).toBeLessThan(0.6);

      expect(errors).toEqual([]);
      const fps = fpsReadings.sort((a, b) => a - b)[Math.floor(fpsReadings.length / 2)];
      expect(
        fps,
        `FPS counter median ${fps} (readings ${fpsReadings}); set FERKIT_WEB_MIN_FPS on a slower machine`,
      ).toBeGreaterThanOrEqual(MIN_FPS);
    } finally {
      await browser.close();
    }
  }, 900_000);

  it('says when camera permission is denied, and still analyses an image file', async () => {
    const browser = await launchBrowser({ camera: camera.path, allowCamera: false });
    const page = browser.page as unknown as Page;
    try {
      await page.goto(server.url);
      await page.waitForFunction('window.__ferkit && window.__ferkit.ready', null, { timeout: 300_000 });
      await page.click('[data-testid=camera-start]');
      await page.waitForFunction(
        "window.__ferkit.messages.some((m) => m.key === 'camera' && m.kind === 'error')",
        null,
        { timeout: 60_000 },
      );
      const s = await pageState(page);
      const text = s.messages.find((m) => m.key === 'camera')!.text;
      expect(text).toMatch(/permission was denied/i);
      expect(await page.evaluate(() => document.querySelector('#messages .msg.error')?.textContent ?? '')).toContain(
        'denied',
      );

      await page.setInputFiles('[data-testid=file-input]', SAMPLE);
      await page.waitForFunction(
        "window.__ferkit.source === 'image' && window.__ferkit.lastResult && window.__ferkit.lastResult.faces.length > 0",
        null,
        { timeout: 300_000, polling: 250 },
      );
      const r = (await pageState(page)).lastResult!;
      expect(r.width).toBe(1920);
      expect(r.faces.length).toBeGreaterThanOrEqual(3);
      for (const f of r.faces) {
        expect(Object.values(f.expression.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }
      const shown = await shownProbabilities(page);
      expect(shown).toHaveLength(r.faces.length);
      await expectOverlayOnPicture(page);
      const px = await page.evaluate(overlayPixelStats);
      expect(px.purple).toBeGreaterThan(300);
      expect(px.cyan).toBeGreaterThan(50);
      // The camera message stays while the file path works.
      expect((await pageState(page)).messages.some((m) => m.key === 'camera')).toBe(true);
      await page.screenshot({ path: '/tmp/ferkit-web-denied.png', fullPage: true });

      // An SVG (even named .png) is refused from its bytes before the browser's decoder sees it.
      writeFileSync('/tmp/ferkit-web-vector.png', '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>');
      await page.setInputFiles('[data-testid=file-input]', '/tmp/ferkit-web-vector.png');
      await page.waitForFunction("window.__ferkit.messages.some((m) => m.key === 'file' && m.kind === 'error')", null, {
        timeout: 30_000,
      });
      expect((await pageState(page)).messages.find((m) => m.key === 'file')!.text).toContain('unsupported format SVG');

      // An expression model that fails to load: the page says so and keeps the working one.
      await page.evaluate(() => {
        const select = document.querySelector<HTMLSelectElement>('[data-testid=model-select]')!;
        select.append(new Option('broken model', 'no-such-model.onnx'));
        select.value = 'no-such-model.onnx';
        select.dispatchEvent(new Event('change'));
      });
      await page.waitForFunction(
        "window.__ferkit.messages.some((m) => m.key === 'model' && m.kind === 'error')",
        null,
        { timeout: 60_000 },
      );
      const after = await pageState(page);
      expect(after.messages.find((m) => m.key === 'model')!.text).toMatch(
        /Could not load .*no-such-model\.onnx.*Still using/,
      );
      expect(
        await page.evaluate(() => document.querySelector<HTMLSelectElement>('[data-testid=model-select]')!.value),
      ).toBe(`${DEFAULT_EXPRESSION_MODEL}.onnx`);
      const before = after.framesAnalysed;
      await page.setInputFiles('[data-testid=file-input]', SAMPLE);
      await page.waitForFunction(`window.__ferkit.framesAnalysed > ${before}`, null, {
        timeout: 300_000,
        polling: 250,
      });
      expect((await pageState(page)).lastResult!.faces.length).toBeGreaterThanOrEqual(3);
    } finally {
      await browser.close();
    }
  }, 900_000);
});
