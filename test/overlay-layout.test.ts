/** Where the probability panels go: on real group photos, every panel is inside the image and none covers another. */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intersectionArea } from '../src/image/ops.js';
import { type Analyzer, createAnalyzer } from '../src/node/index.js';
import { layoutPanels } from '../src/render/overlay.js';

const require = createRequire(import.meta.url);
let analyzer: Analyzer;

beforeAll(async () => {
  analyzer = await createAnalyzer({});
});
afterAll(async () => {
  await analyzer?.dispose();
});

describe('layoutPanels on the face-api demo photos (3–5 faces each)', () => {
  it('keeps every panel inside the image, none overlapping another, and off the faces', async () => {
    let faces = 0;
    let facePixelsCovered = 0;
    let facePixels = 0;
    for (let i = 1; i <= 6; i++) {
      const r = await analyzer.analyze(require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`));
      const panels = layoutPanels(r.faces, r.width, r.height);
      expect(panels).toHaveLength(r.faces.length);
      faces += r.faces.length;
      panels.forEach((p, k) => {
        expect(p.x, `sample${i} panel ${k}`).toBeGreaterThanOrEqual(0);
        expect(p.y).toBeGreaterThanOrEqual(0);
        expect(p.x + p.width).toBeLessThanOrEqual(r.width + 1e-6);
        expect(p.y + p.height).toBeLessThanOrEqual(r.height + 1e-6);
        for (let j = 0; j < k; j++) expect(intersectionArea(p, panels[j]), `sample${i} panels ${j}/${k}`).toBe(0);
        for (const f of r.faces) facePixelsCovered += intersectionArea(p, f.box);
      });
      for (const f of r.faces) facePixels += f.box.width * f.box.height;
    }
    expect(faces).toBeGreaterThanOrEqual(20);
    // Panels may graze a face where a photo is crowded, but cover almost none of the face area.
    expect(facePixelsCovered / facePixels).toBeLessThan(0.02);
  });
});
