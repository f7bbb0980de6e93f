/**
 * The orientation bin dlib's fHOG gives each gradient (fhog.h): the best of 18 directions by float32
 * dot product with its 9 unit vectors and their opposites, ties to the first, as one lookup table.
 */
const f = Math.fround;

// dlib's unit vectors (fhog.h `directions`), as float32.
const DIR_X = [1, 0.9397, 0.766, 0.5, 0.1736, -0.1736, -0.5, -0.766, -0.9397].map(f);
const DIR_Y = [0, 0.342, 0.6428, 0.866, 0.9848, 0.9848, 0.866, 0.6428, 0.342].map(f);
let orientationTable: Uint8Array | null = null;

/** The orientation bin (0..17) of every gradient (gx, gy) ∈ [−255, 255]², at (gx + 255)·511 + gy + 255. */
export function orientations(): Uint8Array {
  if (orientationTable) return orientationTable;
  const t = new Uint8Array(511 * 511);
  for (let gx = -255; gx <= 255; gx++) {
    for (let gy = -255; gy <= 255; gy++) {
      let best = 0;
      let bestO = 0;
      for (let o = 0; o < 9; o++) {
        const dot = f(f(gx * DIR_X[o]) + f(gy * DIR_Y[o]));
        if (dot > best) {
          best = dot;
          bestO = o;
        } else if (-dot > best) {
          best = -dot;
          bestO = o + 9;
        }
      }
      t[(gx + 255) * 511 + gy + 255] = bestO;
    }
  }
  orientationTable = t;
  return t;
}
