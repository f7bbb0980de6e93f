/** The robustness benchmark's corruptions: pure, deterministic, 48×48 uint8, stronger with severity, occlusions in place. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EYE_BAND_VALUE, MASK_VALUE } from '../src/bench/corruption-occlusion.js';
import { mulberry32, templatePoints } from '../src/bench/corruption-pixels.js';
import { applyCorruption, CORRUPTION_FAMILIES, CORRUPTIONS } from '../src/bench/corruptions.js';
import { loadFer2013 } from '../src/data/fer2013.js';

const N = 48;
const FER = resolve(process.env.FERKIT_DATA ?? resolve(__dirname, '../../shared/data'), 'fer2013/publictest.bin');

/** A face-like 48×48 test image: lit background, brighter face oval, dark eyes/brows/mouth at the template's points, fine texture. */
function syntheticFace(seed = 1): Uint8Array {
  const rand = mulberry32(seed);
  const pts = templatePoints(N);
  const img = new Uint8Array(N * N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const dx = (x - 23.5) / 19;
      const dy = (y - 27) / 22;
      let v = 60 + x; // background gradient
      if (dx * dx + dy * dy < 1) v = 170 - 20 * (dx * dx + dy * dy);
      v += 10 * (rand() - 0.5);
      img[y * N + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  const dot = (i: number, value: number) => {
    const [px, py] = pts[i];
    img[Math.round(py) * N + Math.round(px)] = value;
  };
  for (let i = 17; i <= 26; i++) dot(i, 70); // brows
  for (let i = 36; i <= 47; i++) dot(i, 40); // eyes
  for (let i = 48; i <= 67; i++) dot(i, 60); // mouth
  for (let i = 27; i <= 35; i++) dot(i, 120); // nose
  return img;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

const at = (img: Uint8Array, [x, y]: readonly number[]) => img[Math.round(y) * N + Math.round(x)];

describe('corruption registry', () => {
  it('15 corruptions over the 7 families, unique names, 5 levels each', () => {
    expect(CORRUPTIONS).toHaveLength(15);
    expect(new Set(CORRUPTIONS.map((c) => c.name)).size).toBe(CORRUPTIONS.length);
    expect(new Set(CORRUPTIONS.map((c) => c.family))).toEqual(new Set(CORRUPTION_FAMILIES));
    for (const c of CORRUPTIONS) expect(c.levels, c.name).toHaveLength(5);
  });

  it('rejects bad severities and non-square crops', async () => {
    const face = syntheticFace();
    await expect(applyCorruption('defocus', face, 6)).rejects.toThrow(/severity/);
    await expect(applyCorruption('defocus', face, 1.5)).rejects.toThrow(/severity/);
    await expect(applyCorruption('defocus', new Uint8Array(100 * 3), 1)).rejects.toThrow(/square/);
    await expect(applyCorruption('no-such', face, 1)).rejects.toThrow(/unknown corruption/);
  });
});

describe.each(CORRUPTIONS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const face = syntheticFace();

  it('severity 0 is an identical copy', async () => {
    const out = await c.apply(face, 0, 3);
    expect(out).not.toBe(face);
    expect(out).toEqual(face);
  });

  it('is deterministic for a seed, keeps 48×48 uint8 and does not touch its input', async () => {
    const before = face.slice();
    for (const s of [1, 3, 5]) {
      const a = await c.apply(face, s, 42);
      const b = await c.apply(face, s, 42);
      expect(a).toBeInstanceOf(Uint8Array);
      expect(a).toHaveLength(N * N);
      expect(a).toEqual(b);
    }
    expect(face).toEqual(before);
  });

  it('changes the crop more at every higher severity (mean absolute difference)', async () => {
    const diffs: number[] = [];
    for (let s = 0; s <= 5; s++) diffs.push(meanAbsDiff(face, await c.apply(face, s, 7)));
    expect(diffs[0]).toBe(0);
    for (let s = 1; s <= 5; s++)
      expect(diffs[s], `severity ${s} vs ${s - 1}: ${diffs.map((d) => d.toFixed(2))}`).toBeGreaterThan(diffs[s - 1]);
  });
});

describe('random corruptions depend on the seed', () => {
  it.each(['gaussian-noise', 'shot-noise', 'patches'])('%s', async (name) => {
    const face = syntheticFace();
    expect(await applyCorruption(name, face, 3, 1)).not.toEqual(await applyCorruption(name, face, 3, 2));
  });
});

describe('occlusions cover the intended region', () => {
  const face = syntheticFace();
  const pts = templatePoints(N);
  const eyeCentres = [
    [36, 41],
    [42, 47],
  ].map(([a, b]) => {
    const p = pts.slice(a, b + 1);
    return [p.reduce((s, q) => s + q[0], 0) / p.length, p.reduce((s, q) => s + q[1], 0) / p.length];
  });

  it('eye band: both eyes (points 36–47) opaque at severity 5, mouth and chin untouched', async () => {
    const out = await applyCorruption('eye-band', face, 5, 0);
    for (const c of eyeCentres) expect(at(out, c)).toBe(EYE_BAND_VALUE);
    for (let i = 36; i <= 47; i++) expect(at(out, pts[i]), `eye point ${i}`).toBe(EYE_BAND_VALUE);
    for (let i = 48; i <= 67; i++) expect(at(out, pts[i]), `mouth point ${i}`).toBe(at(face, pts[i]));
    expect(at(out, pts[8])).toBe(at(face, pts[8]));
    // lower severities: translucent, still darker than the face over the eyes
    const weak = await applyCorruption('eye-band', face, 1, 0);
    for (const c of eyeCentres) {
      expect(at(face, c)).toBeGreaterThan(EYE_BAND_VALUE + 20);
      expect(at(weak, c)).toBeLessThan(at(face, c));
      expect(at(weak, c)).toBeGreaterThan(EYE_BAND_VALUE);
    }
  });

  it('mask: mouth covered at every severity, the nose only at high severity, the eyes never', async () => {
    const maskValue = (v: number) => v >= MASK_VALUE - 10 && v <= MASK_VALUE;
    for (let s = 1; s <= 5; s++) {
      const out = await applyCorruption('mask', face, s, 0);
      for (let i = 48; i <= 67; i++)
        expect(maskValue(at(out, pts[i])), `severity ${s}, mouth point ${i}: ${at(out, pts[i])}`).toBe(true);
      for (let i = 36; i <= 47; i++) expect(at(out, pts[i]), `severity ${s}, eye point ${i}`).toBe(at(face, pts[i]));
    }
    const low = await applyCorruption('mask', face, 1, 0);
    const high = await applyCorruption('mask', face, 5, 0);
    expect(at(low, pts[30])).toBe(at(face, pts[30])); // nose tip visible at severity 1
    expect(maskValue(at(high, pts[30]))).toBe(true); // covered at 5
    expect(maskValue(at(high, pts[29]))).toBe(true);
  });

  it('patches: covered area grows with the severity and earlier patches are kept', async () => {
    let prevChanged = -1;
    let prev: Uint8Array | null = null;
    for (let s = 1; s <= 5; s++) {
      const out = await applyCorruption('patches', face, s, 5);
      let changed = 0;
      for (let i = 0; i < out.length; i++) if (out[i] !== face[i]) changed++;
      expect(changed).toBeGreaterThan(prevChanged);
      if (prev) for (let i = 0; i < out.length; i++) if (prev[i] !== face[i]) expect(out[i]).toBe(prev[i]);
      prevChanged = changed;
      prev = out;
    }
  });
});

describe.skipIf(!existsSync(FER))('on real FER2013 PublicTest faces', () => {
  it('every corruption changes faces more, on average, at every higher severity', async () => {
    const { images } = await loadFer2013(FER, { limit: 12 });
    for (const c of CORRUPTIONS) {
      const diffs: number[] = [];
      for (let s = 0; s <= 5; s++) {
        let sum = 0;
        for (const [i, img] of images.entries()) sum += meanAbsDiff(img, await c.apply(img, s, i));
        diffs.push(sum / images.length);
      }
      for (let s = 1; s <= 5; s++)
        expect(diffs[s], `${c.name}: ${diffs.map((d) => d.toFixed(2))}`).toBeGreaterThan(diffs[s - 1]);
    }
  });
});
