/**
 * Where the overlay puts labels and probability panels (layoutOverlay), checked on rectangles: synthetic
 * scenes (two talking heads, rows of close faces, faces at every edge, a face filling the frame, tiny
 * faces, random crowds) and the face-api demo photos.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intersectionArea, unionBox } from '../src/image/ops.js';
import { type Analyzer, createAnalyzer, layoutOverlay } from '../src/node/index.js';
import type { FaceResult } from '../src/pipeline/types.js';
import { ACCENT_COLORS } from '../src/render/overlay.js';
import {
  type FaceLayout,
  MIN_PANEL_ROW,
  PANEL_GAP,
  PANEL_REACH,
  PANEL_SCALES,
  panelRow,
  panelSize,
} from '../src/render/panel-layout.js';
import type { Box } from '../src/types.js';

const require = createRequire(import.meta.url);

function face(x: number, y: number, width: number, height: number): FaceResult {
  const probabilities = { angry: 0.02, disgust: 0.01, fear: 0.05, happy: 0.7, sad: 0.08, surprise: 0.04, neutral: 0.1 };
  return { box: { x, y, width, height }, score: 0.9, landmarks: [], expression: { label: 'happy', probabilities } };
}

const overlaps = (a: Box, b: Box) => intersectionArea(a, b) > 1e-9;
const inside = (r: Box, w: number, h: number) =>
  r.x >= -1e-6 && r.y >= -1e-6 && r.x + r.width <= w + 1e-6 && r.y + r.height <= h + 1e-6;

/** Every panel inside the frame, off every face box, every label and every other panel; labels inside too. */
function expectClear(faces: readonly FaceResult[], layouts: readonly FaceLayout[], w: number, h: number): void {
  expect(layouts).toHaveLength(faces.length);
  layouts.forEach((l, i) => {
    if (l.label) expect(inside(l.label, w, h), `label ${i} inside the frame`).toBe(true);
    const p = l.panel;
    if (!p) return;
    expect(inside(p, w, h), `panel ${i} inside the frame`).toBe(true);
    for (const [j, f] of faces.entries()) expect(overlaps(p, f.box), `panel ${i} on box ${j}`).toBe(false);
    layouts.forEach((o, j) => {
      if (o.label) expect(overlaps(p, o.label), `panel ${i} on label ${j}`).toBe(false);
      if (j !== i && o.panel) expect(overlaps(p, o.panel), `panel ${i} on panel ${j}`).toBe(false);
    });
  });
}

/** The row sizes the layout may use for a face, largest first. */
function rowsFor(box: Box, w: number, h: number): number[] {
  const full = panelRow(box, w, h);
  return [...new Set(PANEL_SCALES.map((s) => Math.max(MIN_PANEL_ROW, full * s)))].filter((r) => r <= full);
}

/**
 * Brute force, independent of the layout's search: is there a whole-pixel place for a `row`-sized panel
 * of face i, inside the frame, within reach of the face, keeping the gap from every box, label and other
 * panel of the final layout? Obstacles are rasterised generously, so this may miss a place but never
 * invents one; the final layout holds every obstacle the face saw when placed, so a place found here was
 * free then too.
 */
function roomFor(
  i: number,
  row: number,
  faces: readonly FaceResult[],
  layouts: readonly FaceLayout[],
  W: number,
  H: number,
) {
  const { width: pw, height: ph } = panelSize(row);
  const gap = row * PANEL_GAP;
  const obstacles: Box[] = faces.map((f) => f.box);
  layouts.forEach((l, j) => {
    if (l.label) obstacles.push(l.label);
    if (j !== i && l.panel) obstacles.push(l.panel);
  });
  const sum = new Float64Array((W + 1) * (H + 1));
  const blocked = new Uint8Array(W * H);
  for (const o of obstacles) {
    const x0 = Math.max(0, Math.floor(o.x - gap));
    const x1 = Math.min(W, Math.ceil(o.x + o.width + gap));
    const y0 = Math.max(0, Math.floor(o.y - gap));
    const y1 = Math.min(H, Math.ceil(o.y + o.height + gap));
    for (let y = y0; y < y1; y++) blocked.fill(1, y * W + x0, y * W + x1);
  }
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      sum[(y + 1) * (W + 1) + x + 1] =
        blocked[y * W + x] + sum[y * (W + 1) + x + 1] + sum[(y + 1) * (W + 1) + x] - sum[y * (W + 1) + x];
  const b = faces[i].box;
  const l = layouts[i].label;
  const block = l ? unionBox(b, l) : b;
  const reach = PANEL_REACH * Math.max(pw, ph);
  const cw = Math.ceil(pw);
  const ch = Math.ceil(ph);
  for (
    let y = Math.ceil(Math.max(0, block.y - reach - ph));
    y <= Math.min(H - ph, block.y + block.height + reach);
    y++
  ) {
    for (
      let x = Math.ceil(Math.max(0, block.x - reach - pw));
      x <= Math.min(W - pw, block.x + block.width + reach);
      x++
    ) {
      const x1 = Math.min(W, x + cw);
      const y1 = Math.min(H, y + ch);
      const n = sum[y1 * (W + 1) + x1] - sum[y * (W + 1) + x1] - sum[y1 * (W + 1) + x] + sum[y * (W + 1) + x];
      if (n === 0) return { x, y, width: pw, height: ph };
    }
  }
  return null;
}

/** Each face got the largest panel that has room: no room at the next larger size, none at all for label only. */
function expectLargestThatFits(faces: readonly FaceResult[], layouts: readonly FaceLayout[], W: number, H: number) {
  layouts.forEach((l, i) => {
    const rows = rowsFor(faces[i].box, W, H);
    const used = l.panel ? rows.findIndex((r) => Math.abs(r - l.panel!.row) < 1e-9) : rows.length;
    expect(used, `face ${i}: panel row is one of the scales`).toBeGreaterThanOrEqual(0);
    if (used > 0)
      expect(roomFor(i, rows[used - 1], faces, layouts, W, H), `face ${i}: room for a larger panel`).toBeNull();
  });
}

/** Deterministic random numbers (mulberry32), so a failing scene can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('layoutOverlay on synthetic scenes', () => {
  it('two talking heads side by side in 640×480: each panel off the other face, both labels visible', () => {
    const faces = [face(60, 140, 200, 200), face(380, 140, 200, 200)];
    const layouts = layoutOverlay(faces, 640, 480);
    expectClear(faces, layouts, 640, 480);
    expectLargestThatFits(faces, layouts, 640, 480);
    for (const [i, l] of layouts.entries()) {
      // The label sits on top of its own box, covering neither box.
      expect(l.label!.y + l.label!.height).toBeLessThanOrEqual(faces[i].box.y + 1e-6);
      for (const f of faces) expect(overlaps(l.label!, f.box)).toBe(false);
      // The full panel has no room beside, above or below a 200-px face here: a smaller one does.
      expect(l.panel, `face ${i} panel`).not.toBeNull();
      expect(l.panel!.scale).toBeLessThan(1);
      expect(l.tag).toBe(`#${i + 1}`);
      expect(l.label!.text.startsWith(`#${i + 1} happy`)).toBe(true);
    }
    expect(layouts[0].accent).not.toBe(layouts[1].accent);
  });

  it('rows of 2–6 close faces: all clear, full size where a row leaves room below', () => {
    for (let n = 2; n <= 6; n++) {
      // Faces 80 px wide, 12 px apart, centred in the top half of 640×480.
      const left = (640 - (n * 80 + (n - 1) * 12)) / 2;
      const faces = Array.from({ length: n }, (_, k) => face(left + k * 92, 120, 80, 90));
      const layouts = layoutOverlay(faces, 640, 480);
      expectClear(faces, layouts, 640, 480);
      expectLargestThatFits(faces, layouts, 640, 480);
      const full = panelSize(panelRow(faces[0].box, 640, 480));
      // By construction: 480 − (210 + gap) leaves room for one row of full panels below the faces,
      // as many as fit across 640 px.
      const placedFull = layouts.filter((l) => l.panel?.scale === 1).length;
      expect(placedFull, `${n} faces`).toBeGreaterThanOrEqual(Math.min(n, Math.floor(640 / (full.width + 6))));
    }
  });

  it('faces at every edge and corner of the frame get full panels inside it', () => {
    const W = 1280;
    const H = 720;
    const s = 120;
    const spots = [
      [0, 0],
      [(W - s) / 2, 0],
      [W - s, 0],
      [0, (H - s) / 2],
      [W - s, (H - s) / 2],
      [0, H - s],
      [(W - s) / 2, H - s],
      [W - s, H - s],
    ];
    // One at a time, then all eight together: the frame's middle leaves room for all.
    for (const [x, y] of spots) {
      const faces = [face(x, y, s, s)];
      const [l] = layoutOverlay(faces, W, H);
      expectClear(faces, [l], W, H);
      expect(l.panel?.scale, `face at ${x},${y}`).toBe(1);
      expect(l.leader).toBeNull();
      expect(overlaps(l.label!, faces[0].box)).toBe(false);
    }
    const faces = spots.map(([x, y]) => face(x, y, s, s));
    const layouts = layoutOverlay(faces, W, H);
    expectClear(faces, layouts, W, H);
    expectLargestThatFits(faces, layouts, W, H);
    expect(layouts.every((l) => l.panel?.scale === 1)).toBe(true);
  });

  it('a face filling the frame keeps only its label, inside the frame', () => {
    for (const box of [
      [0, 0, 640, 480],
      [20, 20, 600, 440],
    ]) {
      const faces = [face(box[0], box[1], box[2], box[3])];
      const layouts = layoutOverlay(faces, 640, 480);
      expectClear(faces, layouts, 640, 480);
      expectLargestThatFits(faces, layouts, 640, 480);
      expect(layouts[0].panel).toBeNull();
      expect(layouts[0].leader).toBeNull();
      expect(layouts[0].label).not.toBeNull();
    }
  });

  it('tiny faces in a big image: full, legible panels beside each', () => {
    const faces: FaceResult[] = [];
    for (let k = 0; k < 12; k++) faces.push(face(200 + (k % 4) * 900, 300 + Math.floor(k / 4) * 900, 24, 24));
    const layouts = layoutOverlay(faces, 4000, 3000);
    expectClear(faces, layouts, 4000, 3000);
    for (const l of layouts) {
      expect(l.panel?.scale).toBe(1);
      expect(l.panel!.row).toBeGreaterThanOrEqual(MIN_PANEL_ROW);
      expect(l.leader).toBeNull();
    }
  });

  it('a face walled in by neighbours gets a detached panel with a leader line to it', () => {
    // Top-left corner face; faces to its right and below leave room only diagonally.
    const faces = [face(0, 20, 100, 100), face(110, 20, 100, 100), face(0, 150, 100, 100)];
    const layouts = layoutOverlay(faces, 500, 400);
    expectClear(faces, layouts, 500, 400);
    expectLargestThatFits(faces, layouts, 500, 400);
    const { panel, leader } = layouts[0];
    expect(panel).not.toBeNull();
    expect(leader).not.toBeNull();
    // The leader runs from the panel's edge to the face's box.
    const onEdge = (x: number, y: number, r: Box) =>
      x >= r.x - 1e-6 &&
      x <= r.x + r.width + 1e-6 &&
      y >= r.y - 1e-6 &&
      y <= r.y + r.height + 1e-6 &&
      Math.min(Math.abs(x - r.x), Math.abs(x - r.x - r.width), Math.abs(y - r.y), Math.abs(y - r.y - r.height)) < 1e-6;
    expect(onEdge(leader!.x1, leader!.y1, panel!)).toBe(true);
    expect(onEdge(leader!.x2, leader!.y2, faces[0].box)).toBe(true);
    // The two faces with open space beside them need no leader.
    expect(layouts[1].leader).toBeNull();
    expect(layouts[2].leader).toBeNull();
  });

  it('random crowds of 2–6 faces: always clear, and every panel as large as the room allows', () => {
    const rand = random(20);
    let shrunk = 0;
    let labelOnly = 0;
    for (let scene = 0; scene < 30; scene++) {
      const faces: FaceResult[] = [];
      const n = 2 + Math.floor(rand() * 5);
      for (let tries = 0; faces.length < n && tries < 200; tries++) {
        const s = 40 + rand() * 180;
        const f = face(rand() * (640 - s), rand() * (480 - s), s, s * (1 + rand() * 0.3));
        if (f.box.y + f.box.height <= 480 && !faces.some((g) => overlaps(g.box, f.box))) faces.push(f);
      }
      const layouts = layoutOverlay(faces, 640, 480);
      expectClear(faces, layouts, 640, 480);
      expectLargestThatFits(faces, layouts, 640, 480);
      shrunk += layouts.filter((l) => l.panel && l.panel.scale < 1).length;
      labelOnly += layouts.filter((l) => !l.panel).length;
    }
    // The scenes exercise every mode, not only the easy one.
    expect(shrunk).toBeGreaterThan(0);
    expect(labelOnly).toBeGreaterThan(0);
  });

  it('colours and tags follow tracker ids, so a face keeps its colour when the order changes', () => {
    const a = face(40, 100, 120, 120);
    const b = face(400, 100, 120, 120);
    const first = layoutOverlay([a, b], 640, 480, { ids: [7, 3] });
    const swapped = layoutOverlay([b, a], 640, 480, { ids: [3, 7] });
    expect(first[0].accent).toBe(ACCENT_COLORS[6]);
    expect(first[0].accent).toBe(swapped[1].accent);
    expect(first[1].accent).toBe(swapped[0].accent);
    expect(first[0].label!.text).toBe('#7 happy 70%');
    // A single face without ids: no tag, the brand purple.
    const [single] = layoutOverlay([a], 640, 480);
    expect(single.tag).toBeUndefined();
    expect(single.label!.text).toBe('happy 70%');
    expect(single.accent).toBe(ACCENT_COLORS[0]);
    // Bars and boxes off: nothing to place.
    const bare = layoutOverlay([a, b], 640, 480, { labels: false, panels: false });
    expect(bare.every((l) => l.label === null && l.panel === null)).toBe(true);
  });
});

describe('layoutOverlay on the face-api demo photos (3–5 faces each)', () => {
  let analyzer: Analyzer;
  beforeAll(async () => {
    analyzer = await createAnalyzer({});
  });
  afterAll(async () => {
    await analyzer?.dispose();
  });

  it('keeps every panel inside the image and off every face, label and other panel', async () => {
    let faces = 0;
    let panels = 0;
    for (let i = 1; i <= 6; i++) {
      const r = await analyzer.analyze(require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`));
      const layouts = layoutOverlay(r.faces, r.width, r.height);
      expectClear(r.faces, layouts, r.width, r.height);
      faces += r.faces.length;
      panels += layouts.filter((l) => l.panel).length;
    }
    expect(faces).toBeGreaterThanOrEqual(20);
    // Real group photos leave room for nearly every panel at some size.
    expect(panels / faces).toBeGreaterThanOrEqual(0.9);
  });
});
