/** Occlusions placed with ferkit's alignment template: eye band, face mask, random patches. */
import {
  coverage,
  cropSide,
  extent,
  insidePolygon,
  meanPoint,
  mulberry32,
  type Pt,
  paint,
  templatePoints,
} from './corruption-pixels.js';

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
