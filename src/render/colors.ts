/** The overlay's colours: the brand purple, one colour per expression, and one accent per face. */
import type { EXPRESSION_LABELS } from '../types.js';

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

/**
 * Per-face accents that tie a box, its label and its panel together. Dark enough for white text,
 * distinct from each other and from the landmark cyan; the first is the single-face purple.
 */
export const ACCENT_COLORS: readonly string[] = [
  PURPLE,
  '#00897b',
  '#e65100',
  '#1565c0',
  '#c2185b',
  '#558b2f',
  '#6d4c41',
  '#455a64',
];

/**
 * The accent for a face: from its tracker id when there is one (so a face keeps its colour from frame to
 * frame; ids count from 1), else from its position in the list.
 */
export function accentColor(index: number, id?: number | string): string {
  const n = ACCENT_COLORS.length;
  let k = index;
  if (typeof id === 'number' && Number.isFinite(id)) k = Math.trunc(id) - 1;
  else if (typeof id === 'string') {
    k = 0;
    for (const c of id) k = (k * 31 + c.charCodeAt(0)) | 0;
  }
  return ACCENT_COLORS[((k % n) + n) % n];
}
