/** drawOverlay on @napi-rs/canvas draws what layoutOverlay says, where it says: checked on the pixels. */
import { describe, expect, it } from 'vitest';
import { layoutOverlay } from '../src/node/index.js';
import { drawAnnotated } from '../src/node/render.js';
import type { FaceResult } from '../src/pipeline/types.js';
import { PURPLE } from '../src/render/colors.js';
import type { Box, RgbImage } from '../src/types.js';

const GREY = 128;

function face(x: number, y: number, width: number, height: number): FaceResult {
  const probabilities = { angry: 0.02, disgust: 0.01, fear: 0.05, happy: 0.7, sad: 0.08, surprise: 0.04, neutral: 0.1 };
  return { box: { x, y, width, height }, score: 0.9, landmarks: [], expression: { label: 'happy', probabilities } };
}

function hex(color: string): [number, number, number] {
  const n = Number.parseInt(color.slice(1), 16);
  return [n >> 16, (n >> 8) & 255, n & 255];
}

describe('drawOverlay with @napi-rs/canvas', () => {
  it('two talking heads: header strips in each accent where the layout put the panels, nothing elsewhere', () => {
    const width = 640;
    const height = 480;
    const image: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(GREY) };
    const faces = [face(60, 140, 200, 200), face(380, 140, 200, 200)];
    const layouts = layoutOverlay(faces, width, height);
    const canvas = drawAnnotated(image, faces, { points: false });
    const { data } = canvas.getContext('2d').getImageData(0, 0, width, height);
    const pixel = (x: number, y: number) => {
      const i = (Math.floor(y) * width + Math.floor(x)) * 4;
      return [data[i], data[i + 1], data[i + 2]];
    };

    for (const { panel, accent } of layouts) {
      expect(panel).not.toBeNull();
      const p = panel!;
      // The header strip's right end (the tag is on the left) is the face's accent, exactly.
      expect(pixel(p.x + p.width - p.row * 1.5, p.y + p.header / 2)).toEqual(hex(accent));
      // The panel body is dark over the grey, everywhere inside it.
      let dark = 0;
      let total = 0;
      for (let y = Math.ceil(p.y + p.header); y < p.y + p.height - 2; y += 2)
        for (let x = Math.ceil(p.x + 2); x < p.x + p.width - 2; x += 2, total++) if (pixel(x, y)[0] < GREY - 20) dark++;
      expect(dark / total).toBeGreaterThan(0.6);
    }
    // Outside every box, label and panel (with a margin for strokes and anti-aliasing) the image is untouched.
    const drawn: Box[] = layouts.flatMap((l, i) => [faces[i].box, l.label!, l.panel!]);
    const near = (x: number, y: number, r: Box) =>
      x > r.x - 4 && x < r.x + r.width + 4 && y > r.y - 4 && y < r.y + r.height + 4;
    let changed = 0;
    for (let y = 0; y < height; y += 3)
      for (let x = 0; x < width; x += 3)
        if (!drawn.some((r) => near(x, y, r)) && pixel(x, y).some((v) => v !== GREY)) changed++;
    expect(changed).toBe(0);
    // The boxes are the paper's purple, whatever their faces' accents.
    faces.forEach((f) => {
      const b = f.box;
      expect(pixel(b.x + b.width, b.y + b.height / 2)).toEqual(hex(PURPLE));
    });
  });

  it('draws a leader line between a detached panel and its face', () => {
    const width = 500;
    const height = 400;
    const image: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(GREY) };
    const faces = [face(0, 20, 100, 100), face(110, 20, 100, 100), face(0, 150, 100, 100)];
    const [l] = layoutOverlay(faces, width, height);
    expect(l.leader).not.toBeNull();
    const { x1, y1, x2, y2 } = l.leader!;
    const canvas = drawAnnotated(image, faces, { points: false });
    const { data } = canvas.getContext('2d').getImageData(0, 0, width, height);
    const mx = Math.floor((x1 + x2) / 2);
    const my = Math.floor((y1 + y2) / 2);
    const i = (my * width + mx) * 4;
    expect([data[i], data[i + 1], data[i + 2]]).toEqual(hex(l.accent));
  });
});
