/**
 * Where the overlay puts each face's label and probability panel: a pure function of the face boxes and
 * the frame size (no canvas), so Node and the browser lay out alike and tests check rectangles.
 *
 * A panel never covers a face box, a label or another panel, and stays inside the frame. Preference:
 * full size beside, below or above its face (then slid along it, then detached within reach, tied by a
 * leader line); then the same at smaller scales; then no panel ("label only").
 */
import { intersectionArea, unionBox } from '../image/ops.js';
import type { FaceResult } from '../pipeline/types.js';
import { type Box, EXPRESSION_LABELS } from '../types.js';
import { accentColor } from './colors.js';

/** A face's header label: its rectangle, the text and the font size it was sized for. */
export interface LabelLayout extends Box {
  text: string;
  fontSize: number;
}

/** A face's probability panel: a header strip of `header` px, then 7 bar rows of `row` px. */
export interface PanelPlacement extends Box {
  row: number;
  header: number;
  /** row / the face's full row size: 1, or smaller where the frame had no room for the full panel. */
  scale: number;
}

/** A line from the panel's edge to its face (box or label) when the panel is not beside it. */
export interface Leader {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface FaceLayout {
  /** The colour of this face's box, label, panel header and leader. */
  accent: string;
  /** '#id' shown in the label and panel header ('#1'… by position when several faces have no ids). */
  tag: string | undefined;
  /** Box stroke width. */
  lineWidth: number;
  /** null when labels are off. */
  label: LabelLayout | null;
  /** null when bars are off or nothing fits ("label only"). */
  panel: PanelPlacement | null;
  leader: Leader | null;
}

export interface OverlayLayoutOptions {
  /** Lay out labels (drawOverlay's `boxes`); default true. */
  labels?: boolean;
  /** Lay out panels (drawOverlay's `bars`); default true. */
  panels?: boolean;
  /** Face ids from a tracker (same order as faces). */
  ids?: readonly (number | string)[];
  /** One accent for every face instead of the per-face palette. */
  accent?: string;
}

/** Panel sizes tried, as fractions of the face's full row size. */
export const PANEL_SCALES: readonly number[] = [1, 0.75, 0.55];
/** Rows below this many pixels are not legible: smaller scales stop here. */
export const MIN_PANEL_ROW = 9;
/** The clear space a panel keeps from faces, labels and other panels, in rows. */
export const PANEL_GAP = 0.4;
/** A detached panel keeps within this many of its own larger side of its face. */
export const PANEL_REACH = 1;
/** A panel reads as beside its face (no leader) when it shares this many rows of span with it. */
const BESIDE_ROWS = 2;
/** Panel height in rows: the header strip, 7 bars, and a little padding. */
const HEADER_ROWS = 0.9;
const PANEL_ROWS = HEADER_ROWS + EXPRESSION_LABELS.length + 0.4;
const PANEL_WIDTH_ROWS = 8.5;
/** Label text width per character, in font sizes (a bold sans-serif average); drawing squeezes to fit. */
const CHAR_WIDTH = 0.6;
const EPS = 1e-6;

/**
 * Each face's label, panel (or null: label only), leader and accent, in the faces' order. Labels are
 * placed first (every panel must keep clear of all of them), then panels, faces taken left to right.
 */
export function layoutOverlay(
  faces: readonly FaceResult[],
  imageWidth: number,
  imageHeight: number,
  options: OverlayLayoutOptions = {},
): FaceLayout[] {
  const { labels = true, panels = true, ids } = options;
  const frame: Box = { x: 0, y: 0, width: imageWidth, height: imageHeight };
  const boxes = faces.map((f) => f.box);
  // Left to right, so neighbours claim the space between them in reading order.
  const order = faces.map((_, i) => i).sort((i, j) => boxes[i].x - boxes[j].x);

  const layouts: FaceLayout[] = faces.map((face, i) => {
    const id = ids?.[i];
    const tag = id !== undefined ? `#${id}` : faces.length > 1 ? `#${i + 1}` : undefined;
    return {
      accent: options.accent ?? accentColor(i, id),
      tag,
      lineWidth: Math.max(1.5, Math.min(face.box.width, face.box.height) / 60),
      label: null,
      panel: null,
      leader: null,
    };
  });
  if (labels) {
    const placed: Box[] = [];
    for (const i of order) {
      const label = placeLabel(faces[i], layouts[i], frame, boxes, placed);
      layouts[i].label = label;
      placed.push(label);
    }
  }
  if (panels) {
    const obstacles: Box[] = [...boxes, ...layouts.flatMap((l) => (l.label ? [l.label] : []))];
    for (const i of order) {
      const block = layouts[i].label ? unionBox(boxes[i], layouts[i].label!) : boxes[i];
      const panel = placePanel(boxes[i], block, layouts[i].label, frame, obstacles);
      if (!panel) continue;
      layouts[i].panel = panel;
      if (!isBeside(panel, block, panel.row * PANEL_GAP))
        layouts[i].leader = leaderLine(panel, boxes[i], layouts[i].label);
      obstacles.push(panel);
    }
  }
  return layouts;
}

/** The full-size row for a face: rows follow the face size, capped relative to the image. */
export function panelRow(box: Box, imageWidth: number, imageHeight: number): number {
  const unit = Math.max(1, Math.min(imageWidth, imageHeight) / 720);
  return Math.max(MIN_PANEL_ROW, Math.min(box.height / 7.5, 24 * unit));
}

/** Panel width and height for a row size. */
export function panelSize(row: number): { width: number; height: number } {
  return { width: row * PANEL_WIDTH_ROWS, height: row * PANEL_ROWS };
}

/** The label text: tag, top expression and its probability. */
export function labelText(face: FaceResult, tag: string | undefined): string {
  const top = face.expression.label;
  return `${tag ? `${tag} ` : ''}${top} ${Math.round(face.expression.probabilities[top] * 100)}%`;
}

/**
 * Above the box; below it when there is no room above; inside its top edge when neither fits in the frame
 * (a face filling the frame). Of those inside the frame, the first that covers no other box and no earlier
 * label, else the one covering least.
 */
function placeLabel(
  face: FaceResult,
  layout: FaceLayout,
  frame: Box,
  boxes: readonly Box[],
  placed: readonly Box[],
): LabelLayout {
  const b = face.box;
  const line = layout.lineWidth;
  const text = labelText(face, layout.tag);
  const fontSize = Math.max(9, Math.min(b.width / 7, Math.max(14, Math.min(frame.width, frame.height) / 30)));
  const height = fontSize * 1.2;
  const width = Math.min(frame.width, Math.max(b.width + line, text.length * fontSize * CHAR_WIDTH + fontSize * 0.4));
  const x = clamp(b.x - line / 2, 0, frame.width - width);
  const inside = clamp(b.y + line / 2, 0, frame.height - height);
  const candidates = [b.y - line / 2 - height, b.y + b.height + line / 2, inside]
    .map((y) => ({ x, y, width, height }))
    .filter((r) => within(r, frame));
  // A frame smaller than one label: keep it at the box's top edge.
  if (candidates.length === 0) candidates.push({ x, y: inside, width, height });
  const others = boxes.filter((o) => o !== b);
  const covered = (r: Box) => [...others, ...placed].reduce((sum, o) => sum + intersectionArea(r, o), 0);
  let best = candidates[0];
  let bestCost = Infinity;
  for (const c of candidates) {
    const cost = covered(c);
    if (cost < bestCost) [best, bestCost] = [c, cost];
    if (cost === 0) break;
  }
  return { ...best, text, fontSize };
}

/**
 * The first panel that fits, largest scale first; null when none does. It keeps `gap` clear of every box,
 * every other label and every other panel; its own label it need only not cover (a label wider than its
 * box would otherwise push the panel off the box's side).
 */
function placePanel(
  box: Box,
  block: Box,
  ownLabel: Box | null,
  frame: Box,
  obstacles: readonly Box[],
): PanelPlacement | null {
  const full = panelRow(box, frame.width, frame.height);
  const rows = [...new Set(PANEL_SCALES.map((s) => Math.max(MIN_PANEL_ROW, full * s)))].filter((r) => r <= full);
  for (const row of rows) {
    const { width, height } = panelSize(row);
    const gap = row * PANEL_GAP;
    const reach = PANEL_REACH * Math.max(width, height);
    // Only obstacles near enough to touch a panel within reach can block it.
    const area = inflate(block, reach + Math.max(width, height) + gap);
    // Nearest first: those block most candidates, so a failing candidate fails after a check or two.
    const near = obstacles
      .filter((o) => intersectionArea(area, o) > 0)
      .sort((a, b) => gapDistance(a, block) - gapDistance(b, block));
    const margin = (o: Box) => (o === ownLabel ? 0 : gap);
    const fits = (r: Box) =>
      within(r, frame) && distance(r, block) <= reach + EPS && near.every((o) => !touches(r, o, margin(o)));
    const found =
      preferred(box, block, frame, width, height, row, gap).find(fits) ??
      detached(block, frame, near, width, height, margin, reach, fits);
    if (found) return { ...found, row, header: row * HEADER_ROWS, scale: row / full };
  }
  return null;
}

/** Beside, below and above the face, then slid along each side while still beside it. */
function preferred(box: Box, block: Box, frame: Box, w: number, h: number, row: number, gap: number): Box[] {
  const clampX = (x: number) => clamp(x, 0, frame.width - w);
  const clampY = (y: number) => clamp(y, 0, frame.height - h);
  const right = box.x + box.width + gap;
  const left = box.x - gap - w;
  const below = block.y + block.height + gap;
  const above = block.y - gap - h;
  const rects: Box[] = [
    { x: right, y: clampY(box.y), width: w, height: h },
    { x: left, y: clampY(box.y), width: w, height: h },
    { x: clampX(box.x), y: below, width: w, height: h },
    { x: clampX(box.x), y: above, width: w, height: h },
  ];
  // Slides keep BESIDE_ROWS of overlap with the face's side, so the panel still reads as beside it.
  const keep = row * BESIDE_ROWS;
  for (let k = 0; k <= 8; k++) {
    const t = k / 8;
    const y = clampY(box.y - h + keep + t * (box.height + h - 2 * keep));
    const x = clampX(block.x - w + keep + t * (block.width + w - 2 * keep));
    rects.push({ x: right, y, width: w, height: h }, { x: left, y, width: w, height: h });
    rects.push({ x, y: below, width: w, height: h }, { x, y: above, width: w, height: h });
  }
  return rects;
}

/**
 * The nearest place within reach where a panel fits, if any. The lowest-then-leftmost free place always
 * rests against the frame, the reach limit or an obstacle's far edge, so trying those coordinates (and the
 * near edges, for closer fits) finds a place whenever one exists.
 */
function detached(
  block: Box,
  frame: Box,
  near: readonly Box[],
  w: number,
  h: number,
  margin: (o: Box) => number,
  reach: number,
  fits: (r: Box) => boolean,
): Box | undefined {
  const xs = [0, frame.width - w, block.x - reach - w, block.x + block.width + reach];
  const ys = [0, frame.height - h, block.y - reach - h, block.y + block.height + reach];
  for (const o of near) {
    const m = margin(o);
    xs.push(o.x + o.width + m, o.x - m - w);
    ys.push(o.y + o.height + m, o.y - m - h);
  }
  // Only coordinates inside the frame and within reach on their own axis can give a fitting panel.
  const span = (vs: number[], lo: number, hi: number) => [...new Set(vs)].filter((v) => v >= lo - EPS && v <= hi + EPS);
  const xIn = span(xs, Math.max(0, block.x - reach - w), Math.min(frame.width - w, block.x + block.width + reach));
  const yIn = span(ys, Math.max(0, block.y - reach - h), Math.min(frame.height - h, block.y + block.height + reach));
  const cx = block.x + block.width / 2;
  const cy = block.y + block.height / 2;
  // Nearest edge first; among equals, the nearest centre. Only a candidate nearer than the best so far is
  // worth the obstacle checks.
  let best: Box | undefined;
  let bestEdge = Infinity;
  let bestCentre = Infinity;
  for (const x of xIn) {
    for (const y of yIn) {
      const rect = { x, y, width: w, height: h };
      const edge = gapDistance(rect, block);
      if (edge > bestEdge) continue;
      const centre = Math.hypot(x + w / 2 - cx, y + h / 2 - cy);
      if ((edge === bestEdge && centre >= bestCentre) || !fits(rect)) continue;
      [best, bestEdge, bestCentre] = [rect, edge, centre];
    }
  }
  return best;
}

/** Beside its face: within `gap` of it on one side and sharing BESIDE_ROWS of span on the other axis. */
function isBeside(panel: PanelPlacement, block: Box, gap: number): boolean {
  const ox = overlap1d(panel.x, panel.width, block.x, block.width);
  const oy = overlap1d(panel.y, panel.height, block.y, block.height);
  const keep = panel.row * BESIDE_ROWS - EPS;
  return (ox >= keep && -oy <= gap + EPS) || (oy >= keep && -ox <= gap + EPS);
}

/** From the panel's nearest edge point to the nearest edge point of its face's box or label. */
function leaderLine(panel: Box, box: Box, label: Box | null): Leader {
  const to = label && gapDistance(panel, label) < gapDistance(panel, box) ? label : box;
  const [x1, x2] = nearest1d(panel.x, panel.width, to.x, to.width);
  const [y1, y2] = nearest1d(panel.y, panel.height, to.y, to.height);
  return { x1, y1, x2, y2 };
}

/** On one axis: the facing edges of two spans, or both at the middle of their overlap. */
function nearest1d(a: number, aw: number, b: number, bw: number): [number, number] {
  if (a + aw <= b) return [a + aw, b];
  if (b + bw <= a) return [a, b + bw];
  const mid = (Math.max(a, b) + Math.min(a + aw, b + bw)) / 2;
  return [mid, mid];
}

/** Length of the overlap of two spans; negative: the gap between them. */
function overlap1d(a: number, aw: number, b: number, bw: number): number {
  return Math.min(a + aw, b + bw) - Math.max(a, b);
}

/** Chebyshev distance between two rectangles (0 when they touch or overlap). */
function distance(a: Box, b: Box): number {
  return Math.max(0, -overlap1d(a.x, a.width, b.x, b.width), -overlap1d(a.y, a.height, b.y, b.height));
}

/** Euclidean distance between two rectangles' nearest points. */
function gapDistance(a: Box, b: Box): number {
  const dx = Math.max(0, -overlap1d(a.x, a.width, b.x, b.width));
  const dy = Math.max(0, -overlap1d(a.y, a.height, b.y, b.height));
  return Math.hypot(dx, dy);
}

/** Whether `a` comes closer than `margin` to `b` (merely touching at the margin is fine). */
function touches(a: Box, b: Box, margin: number): boolean {
  return (
    overlap1d(a.x, a.width, b.x - margin, b.width + 2 * margin) > EPS &&
    overlap1d(a.y, a.height, b.y - margin, b.height + 2 * margin) > EPS
  );
}

function within(r: Box, frame: Box): boolean {
  return (
    r.x >= frame.x - EPS &&
    r.y >= frame.y - EPS &&
    r.x + r.width <= frame.x + frame.width + EPS &&
    r.y + r.height <= frame.y + frame.height + EPS
  );
}

function inflate(r: Box, m: number): Box {
  return { x: r.x - m, y: r.y - m, width: r.width + 2 * m, height: r.height + 2 * m };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
