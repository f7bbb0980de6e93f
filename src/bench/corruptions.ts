/**
 * Controlled image corruptions for the robustness benchmark (`ferkit bench robustness`), in the
 * spirit of ImageNet-C (Hendrycks & Dietterich 2019), sized for 48×48 grey face crops.
 *
 * Every corruption is a pure, deterministic function of (crop, severity, seed): the same inputs
 * always give the same pixels, on any machine (the random ones draw from a seeded mulberry32
 * stream). Crops are square grey Uint8Arrays (48×48 in FER2013; other square sizes work, with
 * pixel parameters scaled by size/48). Severity 0 returns an unchanged copy; severities 1..5 use
 * the parameters in `levels`. Random choices that are not the strength (which side the shadow
 * falls on, the motion direction, the rotation sign, where patches go, the noise draws) depend
 * only on the seed and the corruption, never on the severity, so a higher severity is the same
 * corruption made stronger and the change from the clean crop grows with the severity.
 *
 * The occlusions are placed with ferkit's alignment template (src/align/fer-template.json, the
 * mean 68 landmarks in the 48×48 FER2013 frame: eyes 36–47, nose 27–35, mouth 48–67, jaw 0–16),
 * so they sit where those face parts are in FER2013-framed crops.
 *
 * JPEG uses sharp (libjpeg-turbo), so it is the one async corruption; `applyCorruption` awaits it.
 */
import { FER2013_TEMPLATE } from '../align/align.js';
import { FerkitError } from '../errors.js';
import { resizeBilinear } from '../image/ops.js';

export const CORRUPTION_FAMILIES = [
  'illumination',
  'blur',
  'noise',
  'compression',
  'resolution',
  'geometry',
  'occlusion',
] as const;
export type CorruptionFamily = (typeof CORRUPTION_FAMILIES)[number];

export const SEVERITIES = [1, 2, 3, 4, 5] as const;
export const MAX_SEVERITY = 5;

export interface Corruption {
  /** Stable id used on the command line, in CSV/JSON and in charts. */
  name: string;
  family: CorruptionFamily;
  /** Short human description, including what the parameter means. */
  description: string;
  /** The parameter per severity 1..5 (index severity − 1). */
  levels: readonly number[];
  /** Unit or meaning of `levels`, for tables. */
  parameter: string;
  /** Severity 0 = clean copy. Pure and deterministic in (crop, severity, seed). */
  apply(crop: Uint8Array, severity: number, seed: number): Uint8Array | Promise<Uint8Array>;
}

// ------------------------------------------------------------------------------------------ helpers

/** Side of a square crop, or an E_INPUT error. */
export function cropSide(crop: Uint8Array): number {
  const n = Math.round(Math.sqrt(crop.length));
  if (n * n !== crop.length || n < 8) {
    throw new FerkitError('E_INPUT', `corruption: expected a square grey crop (e.g. 48x48), got ${crop.length} pixels`);
  }
  return n;
}

function checkSeverity(severity: number): void {
  if (!Number.isInteger(severity) || severity < 0 || severity > MAX_SEVERITY) {
    throw new FerkitError('E_INPUT', `corruption severity must be an integer 0..${MAX_SEVERITY}, got ${severity}`);
  }
}

const byte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

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
function normals(rand: () => number, n: number): Float64Array {
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
function convolve(crop: Uint8Array, side: number, kernel: Float64Array, r: number): Uint8Array {
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
function sampleReflect(crop: Uint8Array, side: number, fx: number, fy: number): number {
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
function coverage(side: number, inside: (x: number, y: number) => boolean): Float64Array {
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
function paint(crop: Uint8Array, alpha: Float64Array, value: number | ((i: number) => number)): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let i = 0; i < crop.length; i++) {
    const a = alpha[i];
    const v = typeof value === 'number' ? value : value(i);
    out[i] = a <= 0 ? crop[i] : byte(crop[i] + (v - crop[i]) * a);
  }
  return out;
}

function mapPixels(crop: Uint8Array, f: (v: number, i: number) => number): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let i = 0; i < crop.length; i++) out[i] = byte(f(crop[i], i));
  return out;
}

// ----------------------------------------------------------------------------- the face template

type Pt = [number, number];
const TEMPLATE = FER2013_TEMPLATE;

/** Template landmarks scaled to a side×side crop (pixel coordinates, centres at integers). */
export function templatePoints(side: number): Pt[] {
  const s = side / TEMPLATE.size;
  return TEMPLATE.points.map(([x, y]) => [(x + 0.5) * s - 0.5, (y + 0.5) * s - 0.5]);
}

function meanPoint(pts: readonly Pt[], from: number, to: number): Pt {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += pts[i][0];
    y += pts[i][1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

function extent(pts: readonly Pt[], from: number, to: number): { x0: number; x1: number; y0: number; y1: number } {
  const xs = pts.slice(from, to + 1).map((p) => p[0]);
  const ys = pts.slice(from, to + 1).map((p) => p[1]);
  return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
}

function insidePolygon(poly: readonly Pt[], x: number, y: number): boolean {
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

// ------------------------------------------------------------------------------------ illumination

/** Multiply every pixel by `gain` (exposure), clipping at 0 and 255. */
export function exposure(crop: Uint8Array, gain: number): Uint8Array {
  return mapPixels(crop, (v) => v * gain);
}

/** 255·(v/255)^gamma; gamma < 1 lifts shadows and washes out the face without clipping. */
export function gammaCurve(crop: Uint8Array, gamma: number): Uint8Array {
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = 255 * (v / 255) ** gamma;
  return mapPixels(crop, (v) => lut[v]);
}

/** Pull every pixel towards the crop's mean: mean + (v − mean)·factor. */
export function lowContrast(crop: Uint8Array, factor: number): Uint8Array {
  let mean = 0;
  for (const v of crop) mean += v;
  mean /= crop.length;
  return mapPixels(crop, (v) => mean + (v - mean) * factor);
}

/**
 * A one-sided shadow: the image side `side` (−1 = left, +1 = right) is darkened by `strength`
 * (v·(1 − strength)), fading smoothly to no change across a band centred on the nose line.
 */
export function sideShadow(crop: Uint8Array, strength: number, side: -1 | 1): Uint8Array {
  const n = cropSide(crop);
  const pts = templatePoints(n);
  const mid = pts[30][0]; // nose tip
  const soft = (8 * n) / 48; // width of the penumbra
  const factor = new Float64Array(n);
  for (let x = 0; x < n; x++) {
    const t = Math.min(1, Math.max(0, (side * (x - mid)) / soft + 0.5)); // 0 lit side … 1 shadow side
    const s = t * t * (3 - 2 * t); // smoothstep
    factor[x] = 1 - strength * s;
  }
  return mapPixels(crop, (v, i) => v * factor[i % n]);
}

// -------------------------------------------------------------------------------------------- blur

/** Anti-aliased disk kernel of radius r (defocus). */
function diskKernel(radius: number): { kernel: Float64Array; r: number } {
  const r = Math.ceil(radius);
  const k = 2 * r + 1;
  const kernel = new Float64Array(k * k);
  const ss = 8;
  let sum = 0;
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      let hit = 0;
      for (let j = 0; j < ss; j++) {
        for (let i = 0; i < ss; i++) {
          const dx = x - r - 0.5 + (i + 0.5) / ss;
          const dy = y - r - 0.5 + (j + 0.5) / ss;
          if (dx * dx + dy * dy <= radius * radius) hit++;
        }
      }
      kernel[y * k + x] = hit;
      sum += hit;
    }
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return { kernel, r };
}

/** Defocus blur: convolution with a uniform disk of `radius` pixels (at 48×48). */
export function defocusBlur(crop: Uint8Array, radius: number): Uint8Array {
  const n = cropSide(crop);
  const { kernel, r } = diskKernel((radius * n) / 48);
  return convolve(crop, n, kernel, r);
}

/** Motion blur: a line of `length` pixels (at 48×48) through the centre at `angle` radians, anti-aliased. */
export function motionBlur(crop: Uint8Array, length: number, angle: number): Uint8Array {
  const n = cropSide(crop);
  const len = (length * n) / 48;
  const r = Math.ceil(len / 2) + 1;
  const k = 2 * r + 1;
  const kernel = new Float64Array(k * k);
  const steps = Math.max(2, Math.ceil(len * 16));
  const cx = Math.cos(angle);
  const cy = Math.sin(angle);
  for (let s = 0; s <= steps; s++) {
    const t = (s / steps - 0.5) * len;
    const fx = r + t * cx;
    const fy = r + t * cy;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const wx = fx - x0;
    const wy = fy - y0;
    kernel[y0 * k + x0] += (1 - wx) * (1 - wy);
    kernel[y0 * k + x0 + 1] += wx * (1 - wy);
    kernel[(y0 + 1) * k + x0] += (1 - wx) * wy;
    kernel[(y0 + 1) * k + x0 + 1] += wx * wy;
  }
  let sum = 0;
  for (const v of kernel) sum += v;
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return convolve(crop, n, kernel, r);
}

// ------------------------------------------------------------------------------------------- noise

/** Additive Gaussian noise with standard deviation `sigma` grey levels; the draws depend only on the seed. */
export function gaussianNoise(crop: Uint8Array, sigma: number, seed: number): Uint8Array {
  const z = normals(mulberry32(seed), crop.length);
  return mapPixels(crop, (v, i) => v + sigma * z[i]);
}

/** Poisson quantile: the smallest k with P(X ≤ k) ≥ u for X ~ Poisson(mean). */
function poissonQuantile(u: number, mean: number): number {
  if (mean <= 0) return 0;
  let p = Math.exp(-mean);
  let cdf = p;
  let k = 0;
  while (cdf < u && k < 10_000) {
    k++;
    p *= mean / k;
    cdf += p;
    if (p === 0 && cdf < u) break; // numerical tail
  }
  return k;
}

/**
 * Shot (Poisson) noise at `photons` photons for a white pixel: v' = 255·Poisson(photons·v/255)/photons.
 * Each pixel uses one seeded uniform through the Poisson quantile, so fewer photons = the same
 * draws made noisier.
 */
export function shotNoise(crop: Uint8Array, photons: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const out = new Uint8Array(crop.length);
  for (let i = 0; i < crop.length; i++) {
    const u = rand();
    out[i] = byte((255 * poissonQuantile(u, (photons * crop[i]) / 255)) / photons);
  }
  return out;
}

// ------------------------------------------------------------------------------------- compression

/** Encode as a baseline greyscale JPEG at `quality` (1..100) with sharp and decode it again. */
export async function jpegCompression(crop: Uint8Array, quality: number): Promise<Uint8Array> {
  const n = cropSide(crop);
  const { default: sharp } = await import('sharp');
  const jpeg = await sharp(Buffer.from(crop.buffer, crop.byteOffset, crop.length), {
    raw: { width: n, height: n, channels: 1 },
  })
    .jpeg({ quality: Math.round(quality), mozjpeg: false, optimiseCoding: true, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== n || info.height !== n || info.channels !== 1) {
    throw new FerkitError('E_DECODE', `jpeg corruption: decoded to ${info.width}x${info.height}x${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length).slice();
}

// -------------------------------------------------------------------------------------- resolution

/** Area-average (box filter) downscale of a square grey image to side m: what a low-resolution sensor records. */
export function areaDownscale(crop: Uint8Array, n: number, m: number): Uint8Array {
  const out = new Uint8Array(m * m);
  const scale = n / m;
  const weights = (o: number): [number, number][] => {
    const lo = o * scale;
    const hi = lo + scale;
    const w: [number, number][] = [];
    for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
      const c = Math.min(hi, i + 1) - Math.max(lo, i);
      if (c > 1e-9) w.push([i, c / scale]);
    }
    return w;
  };
  const wx = Array.from({ length: m }, (_, o) => weights(o));
  for (let y = 0; y < m; y++) {
    const wy = weights(y);
    for (let x = 0; x < m; x++) {
      let s = 0;
      for (const [sy, ay] of wy) for (const [sx, ax] of wx[x]) s += ay * ax * crop[sy * n + sx];
      out[y * m + x] = byte(s);
    }
  }
  return out;
}

/** Down to `side` pixels (at 48×48) by area averaging, then back up bilinearly: a low-resolution face upscaled. */
export function lowResolution(crop: Uint8Array, side: number): Uint8Array {
  const n = cropSide(crop);
  const m = Math.max(2, Math.round((side * n) / 48));
  if (m >= n) return crop.slice();
  const small = areaDownscale(crop, n, m);
  return resizeBilinear({ width: m, height: m, data: small }, n, n, 1);
}

// ---------------------------------------------------------------------------------------- geometry

/** In-plane rotation by `degrees` (positive = clockwise on screen) about the crop centre, bilinear, reflected borders. */
export function rotate(crop: Uint8Array, degrees: number): Uint8Array {
  const n = cropSide(crop);
  const c = (n - 1) / 2;
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const out = new Uint8Array(crop.length);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      // inverse map: rotate the output position back by −a
      const dx = x - c;
      const dy = y - c;
      const sx = c + cos * dx + sin * dy;
      const sy = c - sin * dx + cos * dy;
      out[y * n + x] = byte(sampleReflect(crop, n, sx, sy));
    }
  }
  return out;
}

// --------------------------------------------------------------------------------------- occlusion

/** Grey level of the eye band's lenses (dark, like sunglasses). */
export const EYE_BAND_VALUE = 24;
/** Grey level of the lower-face mask (a light surgical mask). */
export const MASK_VALUE = 208;

/**
 * Where the eye band's lenses go in a side×side crop: one ellipse per eye, centred on the mean of
 * the eye's six template points, `scale` times (half the eye's width + 2 px, half its height + 2.5 px).
 */
export function eyeBandShape(side: number, scale: number): (x: number, y: number) => boolean {
  const pts = templatePoints(side);
  const s = side / 48;
  const lenses = [
    [36, 41],
    [42, 47],
  ].map(([a, b]) => {
    const [cx, cy] = meanPoint(pts, a, b);
    const e = extent(pts, a, b);
    return {
      cx: cx + 0.5,
      cy: cy + 0.5,
      rx: scale * ((e.x1 - e.x0) / 2 + 2 * s),
      ry: scale * ((e.y1 - e.y0) / 2 + 2.5 * s),
    };
  });
  const [l, r] = lenses;
  const bridgeHalf = 0.8 * s * scale;
  const bridgeY = (l.cy + r.cy) / 2 - 0.3 * l.ry;
  return (x, y) => {
    for (const e of lenses) {
      const u = (x - e.cx) / e.rx;
      const v = (y - e.cy) / e.ry;
      if (u * u + v * v <= 1) return true;
    }
    return x >= l.cx && x <= r.cx && Math.abs(y - bridgeY) <= bridgeHalf;
  };
}

/** Sunglasses-like band over both eyes: lenses grow (×scale) and get more opaque (alpha) with the severity. */
export function eyeBand(crop: Uint8Array, scale: number, opacity: number): Uint8Array {
  const n = cropSide(crop);
  const cov = coverage(n, eyeBandShape(n, scale));
  for (let i = 0; i < cov.length; i++) cov[i] *= opacity;
  return paint(crop, cov, EYE_BAND_VALUE);
}

/**
 * The lower-face mask's outline in a side×side crop: inside the jaw contour (template points 0–16,
 * closed across the top, widened 6% about the face centre so it covers the cheeks' edge) and below a
 * top edge that rises towards the nose like a mask's wire. `reach` 0 puts the top edge just above
 * the upper lip (the mouth is covered), 1 at the nose bridge (point 28; nose and mouth covered).
 */
export function maskShape(side: number, reach: number): (x: number, y: number) => boolean {
  const pts = templatePoints(side);
  const s = side / 48;
  const cx = pts[30][0];
  const cy = meanPoint(pts, 0, 16)[1];
  const jaw: Pt[] = pts.slice(0, 17).map(([x, y]) => [cx + (x - cx) * 1.06 + 0.5, cy + (y - cy) * 1.06 + 0.5]);
  const lipTop = extent(pts, 48, 54).y0 - 1.2 * s;
  const bridge = pts[28][1];
  const top = lipTop + (bridge - lipTop) * reach + 0.5;
  const halfWidth = (jaw[16][0] - jaw[0][0]) / 2;
  const rise = 3 * s; // the top edge is this much higher at the nose than at the cheeks
  return (x, y) => {
    const u = (x - cx - 0.5) / halfWidth;
    const edge = top + rise * Math.min(1, u * u);
    return y >= edge && insidePolygon(jaw, x, y);
  };
}

/** Lower-face mask: a light, softly shaded mask over mouth and (with the severity) nose. */
export function faceMask(crop: Uint8Array, reach: number): Uint8Array {
  const n = cropSide(crop);
  const cov = coverage(n, maskShape(n, reach));
  // Gentle horizontal pleats so it reads as cloth, not a flat sticker.
  return paint(crop, cov, (i) => MASK_VALUE - 10 * Math.abs(Math.sin((Math.PI * Math.floor(i / n)) / (4 * (n / 48)))));
}

export interface Patch {
  x: number;
  y: number;
  size: number;
  value: number;
}

/** The first `count` random patches for a seed: squares 6–10 px (at 48×48) of a random grey, anywhere in the crop. */
export function randomPatches(side: number, count: number, seed: number): Patch[] {
  const rand = mulberry32(seed);
  const s = side / 48;
  const out: Patch[] = [];
  for (let k = 0; k < count; k++) {
    const size = Math.round((6 + 4 * rand()) * s);
    const x = Math.floor(rand() * (side - size + 1));
    const y = Math.floor(rand() * (side - size + 1));
    const value = Math.floor(rand() * 256);
    out.push({ x, y, size, value });
  }
  return out;
}

/**
 * `count` random solid grey squares. Earlier patches stay on top, so the patches of a lower severity
 * are exactly kept at every higher one (more patches only ever cover more).
 */
export function patchOcclusion(crop: Uint8Array, count: number, seed: number): Uint8Array {
  const n = cropSide(crop);
  const out = crop.slice();
  const painted = new Uint8Array(crop.length);
  for (const p of randomPatches(n, count, seed)) {
    for (let y = p.y; y < p.y + p.size; y++) {
      for (let x = p.x; x < p.x + p.size; x++) {
        const i = y * n + x;
        if (!painted[i]) {
          painted[i] = 1;
          out[i] = p.value;
        }
      }
    }
  }
  return out;
}

// --------------------------------------------------------------------------------------- registry

function define(
  name: string,
  family: CorruptionFamily,
  description: string,
  parameter: string,
  levels: readonly number[],
  f: (crop: Uint8Array, level: number, seed: number, severity: number) => Uint8Array | Promise<Uint8Array>,
): Corruption {
  return {
    name,
    family,
    description,
    parameter,
    levels,
    apply(crop, severity, seed) {
      cropSide(crop);
      checkSeverity(severity);
      if (severity === 0) return crop.slice();
      return f(crop, levels[severity - 1], mixSeed(seed, name), severity);
    },
  };
}

/** The benchmark's corruptions, grouped by family in CORRUPTION_FAMILIES order. */
export const CORRUPTIONS: readonly Corruption[] = [
  define('darker', 'illumination', 'under-exposure: pixels × gain', 'gain', [0.7, 0.55, 0.42, 0.3, 0.2], (c, g) =>
    exposure(c, g),
  ),
  define(
    'brighter',
    'illumination',
    'over-exposure: pixels × gain, clipped at white',
    'gain',
    [1.2, 1.4, 1.65, 1.95, 2.3],
    (c, g) => exposure(c, g),
  ),
  define(
    'gamma',
    'illumination',
    'gamma curve 255·(v/255)^γ, γ < 1: lifted shadows, washed out',
    'γ',
    [0.7, 0.55, 0.42, 0.32, 0.24],
    (c, g) => gammaCurve(c, g),
  ),
  define(
    'contrast',
    'illumination',
    'low contrast: mean + (v − mean)·factor',
    'factor',
    [0.5, 0.37, 0.27, 0.18, 0.11],
    (c, f) => lowContrast(c, f),
  ),
  define(
    'shadow',
    'illumination',
    'one-sided shadow (side by seed): that half × (1 − strength), soft edge at the nose',
    'strength',
    [0.35, 0.5, 0.65, 0.78, 0.9],
    (c, s, seed) => sideShadow(c, s, mulberry32(seed)() < 0.5 ? -1 : 1),
  ),
  define('defocus', 'blur', 'defocus: uniform disk kernel', 'radius px', [1, 1.5, 2, 2.5, 3], (c, r) =>
    defocusBlur(c, r),
  ),
  define(
    'motion',
    'blur',
    'motion blur: line kernel, direction by seed',
    'length px',
    [3, 5, 7, 10, 13],
    (c, l, seed) => motionBlur(c, l, Math.PI * mulberry32(seed)()),
  ),
  define('gaussian-noise', 'noise', 'additive Gaussian noise', 'σ (grey levels)', [8, 14, 22, 32, 45], (c, s, seed) =>
    gaussianNoise(c, s, seed),
  ),
  define('shot-noise', 'noise', 'shot (Poisson) noise', 'photons at white', [500, 170, 70, 32, 16], (c, p, seed) =>
    shotNoise(c, p, seed),
  ),
  define('jpeg', 'compression', 'JPEG encode/decode (sharp, libjpeg-turbo)', 'quality', [35, 22, 15, 10, 7], (c, q) =>
    jpegCompression(c, q),
  ),
  define(
    'low-resolution',
    'resolution',
    'area-downscale to side px, bilinear upscale back',
    'side px',
    [32, 24, 18, 14, 10],
    (c, s) => lowResolution(c, s),
  ),
  define(
    'rotation',
    'geometry',
    'in-plane rotation about the centre (sign by seed), reflected borders',
    'degrees',
    [5, 10, 15, 22, 30],
    (c, d, seed) => rotate(c, mulberry32(seed)() < 0.5 ? -d : d),
  ),
  define(
    'eye-band',
    'occlusion',
    'dark glasses over the eyes (template points 36–47); size ×scale, opacity grows',
    'scale',
    [1, 1.1, 1.2, 1.3, 1.4],
    (c, k, _seed, sev) => eyeBand(c, k, [0.5, 0.65, 0.8, 0.92, 1][sev - 1]),
  ),
  define(
    'mask',
    'occlusion',
    'lower-face mask (jaw 0–16), top edge from above the lip up to the nose bridge (28)',
    'reach',
    [0, 0.25, 0.5, 0.75, 1],
    (c, r) => faceMask(c, r),
  ),
  define(
    'patches',
    'occlusion',
    'random solid grey squares 6–10 px, placed by seed',
    'patches',
    [1, 2, 4, 6, 9],
    (c, k, seed) => patchOcclusion(c, k, seed),
  ),
];

export function corruptionByName(name: string): Corruption {
  const c = CORRUPTIONS.find((x) => x.name === name);
  if (!c)
    throw new FerkitError(
      'E_INPUT',
      `unknown corruption "${name}"; expected one of ${CORRUPTIONS.map((x) => x.name).join(', ')}`,
    );
  return c;
}

/** Apply a corruption by name (awaits the async ones). */
export async function applyCorruption(name: string, crop: Uint8Array, severity: number, seed = 0): Promise<Uint8Array> {
  return corruptionByName(name).apply(crop, severity, seed);
}
