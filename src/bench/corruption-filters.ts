/** Photometric and geometric corruptions: illumination, blur, noise, JPEG, low resolution, rotation. */
import { FerkitError } from '../errors.js';
import { resizeBilinear } from '../image/ops.js';

import {
  byte,
  convolve,
  cropSide,
  mapPixels,
  mulberry32,
  normals,
  sampleReflect,
  templatePoints,
} from './corruption-pixels.js';

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
