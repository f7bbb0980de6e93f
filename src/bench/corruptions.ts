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
import { FerkitError } from '../errors.js';
import {
  defocusBlur,
  exposure,
  gammaCurve,
  gaussianNoise,
  jpegCompression,
  lowContrast,
  lowResolution,
  motionBlur,
  rotate,
  shotNoise,
  sideShadow,
} from './corruption-filters.js';
import { eyeBand, faceMask, patchOcclusion } from './corruption-occlusion.js';
import { cropSide, mixSeed, mulberry32 } from './corruption-pixels.js';
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

function checkSeverity(severity: number): void {
  if (!Number.isInteger(severity) || severity < 0 || severity > MAX_SEVERITY) {
    throw new FerkitError('E_INPUT', `corruption severity must be an integer 0..${MAX_SEVERITY}, got ${severity}`);
  }
}

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
