/**
 * The overlay: a box per face, its 68 points, a label and a bar chart of the 7 probabilities, each face
 * in its own accent colour. Draws on any Canvas 2D context (browser canvas or @napi-rs/canvas in Node);
 * where things go is decided by layoutOverlay (panel-layout.ts), so both hosts place them alike.
 * Sizes follow the face and image size, so it stays legible from thumbnails to 4K.
 */
import type { FaceResult } from '../pipeline/types.js';
import { EXPRESSION_LABELS } from '../types.js';
import { EXPRESSION_COLORS, PURPLE } from './colors.js';
import { type FaceLayout, type LabelLayout, layoutOverlay, type PanelPlacement } from './panel-layout.js';

export { ACCENT_COLORS, EXPRESSION_COLORS, PURPLE } from './colors.js';

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
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  arc(x: number, y: number, r: number, a0: number, a1: number): void;
  fill(): void;
  fillText(text: string, x: number, y: number, maxWidth?: number): void;
  save(): void;
  restore(): void;
}

export interface OverlayOptions {
  boxes?: boolean;
  points?: boolean;
  bars?: boolean;
  /** Face ids from a tracker, drawn in the label and panel header when given (same order as faces). */
  ids?: readonly (number | string)[];
  /**
   * The face boxes' colour (default PURPLE, the paper's purple box). When given, it is also every face's
   * accent; by default each face's label, panel header and leader line get their own accent (ACCENT_COLORS).
   */
  boxColor?: string;
  pointColor?: string;
}

export function drawOverlay(
  ctx: Canvas2D,
  faces: readonly FaceResult[],
  imageWidth: number,
  imageHeight: number,
  options: OverlayOptions = {},
): void {
  const { boxes = true, points = true, bars = true, pointColor = '#00e5ff' } = options;
  const layouts = layoutOverlay(faces, imageWidth, imageHeight, {
    labels: boxes,
    panels: bars,
    ids: options.ids,
    accent: options.boxColor,
  });
  ctx.save();
  // Boxes under labels, so a label that had to go over a neighbour's box stays readable.
  if (boxes) for (const [i, face] of faces.entries()) drawBox(ctx, face, layouts[i], options.boxColor ?? PURPLE);
  for (const { label, accent } of layouts) if (label) drawLabel(ctx, label, accent);
  if (points) for (const face of faces) drawPoints(ctx, face, pointColor);
  for (const [i, face] of faces.entries()) {
    const { panel, accent, tag } = layouts[i];
    drawLeader(ctx, layouts[i]);
    if (panel) drawPanel(ctx, face, panel, accent, tag);
  }
  ctx.restore();
}

function drawBox(ctx: Canvas2D, face: FaceResult, layout: FaceLayout, color: string): void {
  const { x, y, width, height } = face.box;
  ctx.strokeStyle = color;
  ctx.lineWidth = layout.lineWidth;
  ctx.strokeRect(x, y, width, height);
}

function drawLabel(ctx: Canvas2D, label: LabelLayout, accent: string): void {
  const fs = label.fontSize;
  ctx.fillStyle = accent;
  ctx.globalAlpha = 0.85;
  ctx.fillRect(label.x, label.y, label.width, label.height);
  ctx.globalAlpha = 1;
  ctx.font = `bold ${fs}px sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillStyle = '#ffffff';
  // The layout sized the strip from an average glyph width; maxWidth squeezes a wider text into it.
  ctx.fillText(label.text, label.x + fs * 0.2, label.y + label.height / 2, label.width - fs * 0.4);
}

function drawPoints(ctx: Canvas2D, face: FaceResult, color: string): void {
  if (!face.landmarks) return;
  ctx.fillStyle = color;
  const r = Math.max(1, Math.min(face.box.width, face.box.height) / 110);
  for (const [px, py] of face.landmarks) {
    ctx.beginPath();
    ctx.arc(px, py, r, 0, Math.PI * 2);
    ctx.fill();
  }
}

/** A line in the face's accent from its detached panel to the face, with a dot where it meets the face. */
function drawLeader(ctx: Canvas2D, layout: FaceLayout): void {
  const { leader, accent, panel } = layout;
  if (!leader || !panel) return;
  const width = Math.max(1.5, panel.row / 8);
  ctx.strokeStyle = accent;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(leader.x1, leader.y1);
  ctx.lineTo(leader.x2, leader.y2);
  ctx.stroke();
  ctx.fillStyle = accent;
  ctx.beginPath();
  ctx.arc(leader.x2, leader.y2, width * 1.6, 0, Math.PI * 2);
  ctx.fill();
}

function drawPanel(ctx: Canvas2D, face: FaceResult, p: PanelPlacement, accent: string, tag?: string): void {
  ctx.globalAlpha = 0.72;
  ctx.fillStyle = '#101018';
  ctx.fillRect(p.x, p.y, p.width, p.height);
  ctx.globalAlpha = 1;
  // Header strip and border in the face's accent, with its tag: which face these bars belong to.
  ctx.fillStyle = accent;
  ctx.fillRect(p.x, p.y, p.width, p.header);
  const border = Math.max(1, p.row / 12);
  ctx.strokeStyle = accent;
  ctx.lineWidth = border;
  ctx.strokeRect(p.x + border / 2, p.y + border / 2, p.width - border, p.height - border);
  const font = p.row * 0.72;
  ctx.textBaseline = 'middle';
  if (tag) {
    ctx.font = `bold ${font}px sans-serif`;
    ctx.textAlign = 'left';
    ctx.fillStyle = '#ffffff';
    ctx.fillText(tag, p.x + p.row * 0.25, p.y + p.header / 2, p.width - p.row * 0.5);
  }
  ctx.font = `${font}px sans-serif`;
  const top = p.y + p.header;
  const labelW = p.row * 3.4;
  const pctW = p.row * 1.9;
  const barX = p.x + labelW;
  const barMax = p.width - labelW - pctW;
  EXPRESSION_LABELS.forEach((label, i) => {
    const prob = face.expression.probabilities[label];
    const cy = top + p.row * (i + 0.7);
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
