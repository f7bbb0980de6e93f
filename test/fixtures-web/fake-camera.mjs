/**
 * Synthesises a fake-camera clip for Chromium's --use-file-for-fake-video-capture: a YUV4MPEG2
 * (.y4m) file, 640x480, 4:2:0, panning and zooming over the group photos shipped in
 * @vladmandic/face-api's demo/ folder (1–3 faces in view at a time). Built at test time with
 * sharp (crop + resize) and a BT.601 limited-range RGB→YUV conversion; nothing binary is committed.
 *
 *   node test/fixtures-web/fake-camera.mjs [out.y4m] [--fps 30] [--seconds 6]
 */
import { createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_DIR = join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
export const WIDTH = 640;
export const HEIGHT = 480;

/**
 * Shots: a photo and a crop window (x, y, width in source pixels; height = width·3/4) moving
 * linearly from `from` to `to`. Windows frame 1–3 faces of the group photos (all 1920 px wide).
 */
export const SHOTS = [
  { photo: 'sample1.jpg', from: [0, 0, 1300], to: [560, 60, 1000] }, // 3 faces → 2, panning right, zooming in
  { photo: 'sample3.jpg', from: [720, 0, 1200], to: [820, 80, 1000] }, // 3 faces, slow zoom
  { photo: 'sample6.jpg', from: [0, 250, 1100], to: [500, 250, 1100] }, // 2–3 faces, pan right
];

/** BT.601 limited-range I420 planes from interleaved RGB. */
export function rgbToI420(rgb, width, height) {
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc((width / 2) * (height / 2));
  for (let i = 0, p = 0; i < width * height; i++, p += 3) {
    y[i] = Math.round(16 + (65.481 * rgb[p] + 128.553 * rgb[p + 1] + 24.966 * rgb[p + 2]) / 255);
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < width / 2; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const p = ((2 * cy + dy) * width + 2 * cx + dx) * 3;
        r += rgb[p];
        g += rgb[p + 1];
        b += rgb[p + 2];
      }
      r /= 4 * 255;
      g /= 4 * 255;
      b /= 4 * 255;
      const k = cy * (width / 2) + cx;
      u[k] = Math.round(128 - 37.797 * r - 74.203 * g + 112 * b);
      v[k] = Math.round(128 + 112 * r - 93.786 * g - 18.214 * b);
    }
  }
  return [y, u, v];
}

/** Writes the clip; resolves to { path, frames, bytes }. Reuses an existing file of the right size. */
export async function makeFakeCamera(out = '/tmp/ferkit-fake-camera.y4m', { fps = 30, seconds = 6 } = {}) {
  const perShot = Math.round((fps * seconds) / SHOTS.length);
  const frames = perShot * SHOTS.length;
  const header = `YUV4MPEG2 W${WIDTH} H${HEIGHT} F${fps}:1 Ip A1:1 C420jpeg\n`;
  const frameBytes = 6 + (WIDTH * HEIGHT * 3) / 2;
  const expected = header.length + frames * frameBytes;
  if (existsSync(out) && statSync(out).size === expected) return { path: out, frames, bytes: expected, reused: true };
  // Written under a temporary name and renamed: concurrent runs never see (or feed Chromium) a half file.
  const tmp = `${out}.${process.pid}.tmp`;
  const ws = createWriteStream(tmp);
  let failed = null;
  ws.on('error', (e) => {
    failed = e;
  });
  const write = async (buf) => {
    if (failed) throw failed;
    if (!ws.write(buf)) await new Promise((ok) => ws.once('drain', ok));
  };
  await write(Buffer.from(header, 'ascii'));
  for (const shot of SHOTS) {
    const src = sharp(join(DEMO_DIR, shot.photo));
    const { data, info } = await src.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let f = 0; f < perShot; f++) {
      const t = perShot > 1 ? f / (perShot - 1) : 0;
      const ease = t * t * (3 - 2 * t);
      const [x0, y0, w0] = shot.from;
      const [x1, y1, w1] = shot.to;
      let w = Math.round(w0 + (w1 - w0) * ease);
      w = Math.min(w, info.width, Math.floor((info.height * 4) / 3));
      const h = Math.round((w * 3) / 4);
      const x = Math.max(0, Math.min(info.width - w, Math.round(x0 + (x1 - x0) * ease)));
      const y = Math.max(0, Math.min(info.height - h, Math.round(y0 + (y1 - y0) * ease)));
      const rgb = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
        .extract({ left: x, top: y, width: w, height: h })
        .resize(WIDTH, HEIGHT, { kernel: 'linear' })
        .raw()
        .toBuffer();
      const [yp, up, vp] = rgbToI420(rgb, WIDTH, HEIGHT);
      await write(Buffer.from('FRAME\n', 'ascii'));
      await write(yp);
      await write(up);
      await write(vp);
    }
  }
  await new Promise((ok) => ws.end(ok));
  renameSync(tmp, out);
  return { path: out, frames, bytes: statSync(out).size, reused: false };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, d) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
  const out =
    args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? '/tmp/ferkit-fake-camera.y4m';
  const r = await makeFakeCamera(out, { fps: opt('--fps', 30), seconds: opt('--seconds', 6) });
  console.log(`${r.path}: ${r.frames} frames, ${(r.bytes / 1e6).toFixed(1)} MB${r.reused ? ' (reused)' : ''}`);
}
