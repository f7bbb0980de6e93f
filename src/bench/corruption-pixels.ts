/** Pixel helpers of the corruptions (seeded randomness, convolution, coverage masks) and the face template that places them. */
import { FER2013_TEMPLATE } from '../align/align.js';
import { FerkitError } from '../errors.js';

// ------------------------------------------------------------------------------------------ helpers

/** Side of a square crop, or an E_INPUT error. */
export function cropSide(crop: Uint8Array): number {
  const n = Math.round(Math.sqrt(crop.length));
  if (n * n !== crop.length || n < 8) {
    throw new FerkitError('E_INPUT', `corruption: expected a square grey crop (e.g. 48x48), got ${crop.length} pixels`);
  }
  return n;
}

export const byte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string mixed with a seed: an independent stream per (seed, corruption). */
export function mixSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal draws (Box–Muller) from a uniform stream. */
export function normals(rand: () => number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rand(); // (0, 1]
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Reflect an index into [0, n) without repeating the edge pixel (OpenCV's BORDER_REFLECT_101). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - k;
  return k;
}

/** 2-D convolution with a (2r+1)² kernel, reflect-101 borders. */
export function convolve(crop: Uint8Array, side: number, kernel: Float64Array, r: number): Uint8Array {
  const out = new Uint8Array(crop.length);
  const k = 2 * r + 1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let s = 0;
      for (let ky = 0; ky < k; ky++) {
        const w = kernel.subarray(ky * k, ky * k + k);
        const row = reflect(y + ky - r, side) * side;
        for (let kx = 0; kx < k; kx++) if (w[kx] !== 0) s += w[kx] * crop[row + reflect(x + kx - r, side)];
      }
      out[y * side + x] = byte(s);
    }
  }
  return out;
}

/** Bilinear sample with reflect-101 borders at continuous pixel coordinates (pixel centres at integers). */
export function sampleReflect(crop: Uint8Array, side: number, fx: number, fy: number): number {
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const wx = fx - x0;
  const wy = fy - y0;
  const xa = reflect(x0, side);
  const xb = reflect(x0 + 1, side);
  const ya = reflect(y0, side) * side;
  const yb = reflect(y0 + 1, side) * side;
  const top = crop[ya + xa] + (crop[ya + xb] - crop[ya + xa]) * wx;
  const bot = crop[yb + xa] + (crop[yb + xb] - crop[yb + xa]) * wx;
  return top + (bot - top) * wy;
}

/** Per-pixel coverage (0..1) of a shape given by an inside test, 4×4 supersampled (anti-aliased edges). */
export function coverage(side: number, inside: (x: number, y: number) => boolean): Float64Array {
  const out = new Float64Array(side * side);
  const ss = 4;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let hit = 0;
      for (let j = 0; j < ss; j++)
        for (let i = 0; i < ss; i++) if (inside(x + (i + 0.5) / ss, y + (j + 0.5) / ss)) hit++;
      out[y * side + x] = hit / (ss * ss);
    }
  }
  return out;
}

/** Blend `value` over the crop with per-pixel alpha. */
export function paint(crop: Uint8Array, alpha: Float64Array, value: number | ((i: number) => number)): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let i = 0; i < crop.length; i++) {
    const a = alpha[i];
    const v = typeof value === 'number' ? value : value(i);
    out[i] = a <= 0 ? crop[i] : byte(crop[i] + (v - crop[i]) * a);
  }
  return out;
}

export function mapPixels(crop: Uint8Array, f: (v: number, i: number) => number): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let i = 0; i < crop.length; i++) out[i] = byte(f(crop[i], i));
  return out;
}

// ----------------------------------------------------------------------------- the face template

export type Pt = [number, number];
const TEMPLATE = FER2013_TEMPLATE;

/** Template landmarks scaled to a side×side crop (pixel coordinates, centres at integers). */
export function templatePoints(side: number): Pt[] {
  const s = side / TEMPLATE.size;
  return TEMPLATE.points.map(([x, y]) => [(x + 0.5) * s - 0.5, (y + 0.5) * s - 0.5]);
}

export function meanPoint(pts: readonly Pt[], from: number, to: number): Pt {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += pts[i][0];
    y += pts[i][1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

export function extent(
  pts: readonly Pt[],
  from: number,
  to: number,
): { x0: number; x1: number; y0: number; y1: number } {
  const xs = pts.slice(from, to + 1).map((p) => p[0]);
  const ys = pts.slice(from, to + 1).map((p) => p[1]);
  return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
}

export function insidePolygon(poly: readonly Pt[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Pixel coordinates in the functions below: pixel (x, y) covers [x, x+1) × [y, y+1) for coverage;
// the template points are pixel centres, so shape tests add 0.5 where they compare with them.
