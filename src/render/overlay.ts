/**
 * The overlay: a purple box per face, its 68 points, and a bar chart of the 7 probabilities
 * beside it. Draws on any Canvas 2D context (browser canvas or @napi-rs/canvas in Node).
 * Sizes follow the face and image size, so it stays legible from thumbnails to 4K.
 */
import { intersectionArea } from '../image/ops.js';
import type { FaceResult } from '../pipeline/types.js';
import { EXPRESSION_LABELS } from '../types.js';

/** The subset of CanvasRenderingContext2D the overlay uses (both hosts implement it). */
export interface Canvas2D {
  fillStyle: unknown;
  strokeStyle: unknown;
  lineWidth: number;
  font: string;
  textBaseline: string;
  textAlign: string;
  globalAlpha: number;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  arc(x: number, y: number, r: number, a0: number, a1: number): void;
  fill(): void;
  fillText(text: string, x: number, y: number): void;
  save(): void;
  restore(): void;
}

export interface OverlayOptions {
  boxes?: boolean;
  points?: boolean;
  bars?: boolean;
  /** Face ids from a tracker, drawn in the header when given (same order as faces). */
  ids?: readonly (number | string)[];
  boxColor?: string;
  pointColor?: string;
}

export const PURPLE = '#a020f0';
/** One colour per expression, shared by the overlay, the video timeline chart and the web app. */
export const EXPRESSION_COLORS: Record<(typeof EXPRESSION_LABELS)[number], string> = {
  angry: '#e53935',
  disgust: '#7cb342',
  fear: '#8e24aa',
  happy: '#fdd835',
  sad: '#1e88e5',
  surprise: '#fb8c00',
  neutral: '#9e9e9e',
};

export interface PanelLayout {
  x: number;
  y: number;
  width: number;
  height: number;
  row: number;
}

/** Panel size for one face: rows follow the face size, capped relative to the image. */
function panelSize(
  face: FaceResult,
  imageWidth: number,
  imageHeight: number,
): { width: number; height: number; row: number } {
  const unit = Math.max(1, Math.min(imageWidth, imageHeight) / 720);
  const row = Math.max(9, Math.min(face.box.height / 7.5, 24 * unit));
  return { width: row * 8.5, height: row * (EXPRESSION_LABELS.length + 0.4), row };
}

type Rect = { x: number; y: number; width: number; height: number };

/**
 * Where each face's bars go, faces taken left to right: the first of right, left, below, above that
 * stays inside the image and covers no face and no earlier panel; failing that, the same rows below
 * and above slid sideways; failing that, the candidate covering the least (another panel counting
 * twice as much as a face).
 */
export function layoutPanels(faces: readonly FaceResult[], imageWidth: number, imageHeight: number): PanelLayout[] {
  const placed: Rect[] = [];
  const layouts: PanelLayout[] = new Array(faces.length);
  // Left to right, so neighbours claim the space between them in reading order.
  const order = faces.map((_, i) => i).sort((i, j) => faces[i].box.x - faces[j].box.x);
  for (const i of order) layouts[i] = place(faces[i]);
  return layouts;

  function place(face: FaceResult): PanelLayout {
    const { width, height, row } = panelSize(face, imageWidth, imageHeight);
    const gap = row * 0.4;
    const b = face.box;
    const clampX = (x: number) => Math.max(0, Math.min(imageWidth - width, x));
    const clampY = (y: number) => Math.max(0, Math.min(imageHeight - height, y));
    const below = b.y + b.height + gap + row;
    const above = b.y - gap - height - row * 1.3;
    // Beside the face, then under and over it; when all four collide, the same rows slid sideways.
    const candidates: Rect[] = [
      { x: b.x + b.width + gap, y: clampY(b.y), width, height },
      { x: b.x - gap - width, y: clampY(b.y), width, height },
      { x: clampX(b.x), y: below, width, height },
      { x: clampX(b.x), y: above, width, height },
    ];
    const slides: Rect[] = [];
    for (let k = 0; k <= 8; k++) {
      const x = clampX(b.x - width + (k / 8) * (b.width + width));
      slides.push({ x, y: below, width, height }, { x, y: above, width, height });
    }
    // Covering another panel makes two unreadable; covering part of a face hides less.
    const cost = (r: Rect) => {
      const outside = r.x < 0 || r.y < 0 || r.x + r.width > imageWidth || r.y + r.height > imageHeight ? 1e12 : 0;
      let covered = 0;
      for (const f of faces) covered += intersectionArea(r, f.box);
      for (const p of placed) covered += 2 * intersectionArea(r, p);
      return outside + covered;
    };
    let best = candidates[0];
    let bestCost = Infinity;
    for (const c of [...candidates, ...slides]) {
      const k = cost(c);
      if (k < bestCost) [best, bestCost] = [c, k];
      if (k === 0) break;
    }
    if (bestCost >= 1e12) best = { x: clampX(best.x), y: clampY(best.y), width, height };
    placed.push(best);
    return { ...best, row };
  }
}

export function drawOverlay(
  ctx: Canvas2D,
  faces: readonly FaceResult[],
  imageWidth: number,
  imageHeight: number,
  options: OverlayOptions = {},
): void {
  const { boxes = true, points = true, bars = true, boxColor = PURPLE, pointColor = '#00e5ff' } = options;
  ctx.save();
  const panels = bars ? layoutPanels(faces, imageWidth, imageHeight) : [];
  faces.forEach((face, i) => {
    const { x, y, width, height } = face.box;
    const line = Math.max(1.5, Math.min(width, height) / 60);
    if (boxes) {
      ctx.strokeStyle = boxColor;
      ctx.lineWidth = line;
      ctx.strokeRect(x, y, width, height);
      const id = options.ids?.[i];
      const top = face.expression.label;
      const header = `${id !== undefined ? `#${id} ` : ''}${top} ${Math.round(face.expression.probabilities[top] * 100)}%`;
      const fs = Math.max(9, Math.min(width / 7, Math.max(14, Math.min(imageWidth, imageHeight) / 30)));
      ctx.font = `bold ${fs}px sans-serif`;
      ctx.textBaseline = 'bottom';
      ctx.textAlign = 'left';
      const hy = y - line > fs ? y - line : y + height + fs + line;
      ctx.fillStyle = boxColor;
      ctx.globalAlpha = 0.85;
      ctx.fillRect(x - line / 2, hy - fs * 1.15, Math.max(width + line, header.length * fs * 0.6), fs * 1.2);
      ctx.globalAlpha = 1;
      ctx.fillStyle = '#ffffff';
      ctx.fillText(header, x + fs * 0.2, hy);
    }
    if (points && face.landmarks) {
      ctx.fillStyle = pointColor;
      const r = Math.max(1, Math.min(width, height) / 110);
      for (const [px, py] of face.landmarks) {
        ctx.beginPath();
        ctx.arc(px, py, r, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    if (bars) drawBars(ctx, face, panels[i]);
  });
  ctx.restore();
}

function drawBars(ctx: Canvas2D, face: FaceResult, p: PanelLayout): void {
  ctx.globalAlpha = 0.72;
  ctx.fillStyle = '#101018';
  ctx.fillRect(p.x, p.y, p.width, p.height);
  ctx.globalAlpha = 1;
  const font = p.row * 0.72;
  ctx.font = `${font}px sans-serif`;
  ctx.textBaseline = 'middle';
  const labelW = p.row * 3.4;
  const pctW = p.row * 1.9;
  const barX = p.x + labelW;
  const barMax = p.width - labelW - pctW;
  EXPRESSION_LABELS.forEach((label, i) => {
    const prob = face.expression.probabilities[label];
    const cy = p.y + p.row * (i + 0.7);
    ctx.textAlign = 'left';
    ctx.fillStyle = label === face.expression.label ? '#ffffff' : '#d0d0d8';
    ctx.fillText(label, p.x + p.row * 0.25, cy);
    ctx.fillStyle = '#3a3a46';
    ctx.fillRect(barX, cy - p.row * 0.32, barMax, p.row * 0.64);
    ctx.fillStyle = EXPRESSION_COLORS[label];
    ctx.fillRect(barX, cy - p.row * 0.32, Math.max(0, barMax * prob), p.row * 0.64);
    ctx.textAlign = 'right';
    ctx.fillStyle = '#ffffff';
    ctx.fillText(`${(prob * 100).toFixed(prob < 0.1 ? 1 : 0)}%`, p.x + p.width - p.row * 0.2, cy);
  });
}
