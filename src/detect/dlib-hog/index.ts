/**
 * dlib's HOG frontal face detector (get_frontal_face_detector(): object_detector<scan_fhog_pyramid<
 * pyramid_down<6>>> with 5 fHOG filters) in plain TypeScript, as a ferkit FaceDetector. Host-free:
 * the model comes parsed (src/node/dlib-hog.ts reads it in Node).
 *
 * Same detections as dlib 19.24 (Debian libdlib-dev, SSE2 build) on the same pixels: rectangles
 * equal and confidences equal to float32 rounding — see test/dlib-hog.test.ts.
 *
 * Scores: a Detection's `score` is the logistic of dlib's detection confidence, 1/(1 + e^−c): monotone,
 * in (0, 1), 0.5 at dlib's own threshold (c = 0), so with the default adjustThreshold 0 every face
 * dlib reports has score ≥ 0.5; `confidence` keeps dlib's number. Boxes are dlib's rectangles:
 * x = left, y = top, width = right − left + 1, height = bottom − top + 1 (they may reach outside the image).
 */
import { FerkitError } from '../../errors.js';
import { stripUndefined } from '../../options.js';
import type { Detection, RgbImage } from '../../types.js';
import type { FaceDetector } from '../types.js';
import { DlibHogRunner, type DlibRectDetection } from './detect.js';
import type { DlibHogModel } from './model.js';
import { checkDlibHogOptions, DLIB_HOG_DEFAULTS, DLIB_HOG_MAX_PIXELS, type DlibHogOptions } from './options.js';

export type { DlibRectDetection } from './detect.js';
export { type DlibHogModel, parseDlibHogModel } from './model.js';
export { checkDlibHogOptions, DLIB_HOG_DEFAULTS, type DlibHogOptions } from './options.js';

export interface DlibHogDetection extends Detection {
  /** dlib's detection_confidence (filter response − threshold). */
  confidence: number;
  /** Which of the 5 filters found it (dlib's weight_index: 0 frontal, 1 left, 2 right, 3/4 tilted). */
  weightIndex: number;
}

export interface DlibHogDetector extends FaceDetector {
  readonly model: DlibHogModel;
  readonly options: Readonly<Required<DlibHogOptions>>;
  detect(image: RgbImage, options?: DlibHogOptions): DlibHogDetection[];
  /** dlib's own output (rectangles, confidences, weight indices) for `detector.run(img, upsample, adjustThreshold)`. */
  detectRaw(image: RgbImage, upsample?: number, adjustThreshold?: number): DlibRectDetection[];
}

/** The logistic of dlib's confidence: ferkit's (0, 1) score. */
export function dlibHogScore(confidence: number): number {
  return 1 / (1 + Math.exp(-confidence));
}

function checkImage(image: RgbImage): void {
  const { width, height, data } = image ?? ({} as RgbImage);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || !data)
    throw new FerkitError('E_INPUT', `dlib detector: bad image ${width}x${height}`);
  if (data.length !== width * height * 3)
    throw new FerkitError(
      'E_INPUT',
      `dlib detector: ${width}x${height} RGB image needs ${width * height * 3} bytes, got ${data.length}`,
    );
}

/** A detector over an already parsed model (no file access; usable in a browser). */
export function createDlibHogDetectorFromModel(model: DlibHogModel, options: DlibHogOptions = {}): DlibHogDetector {
  checkDlibHogOptions(options);
  // undefined fields mean "the default", as everywhere in ferkit's options
  const defaults: Required<DlibHogOptions> = { ...DLIB_HOG_DEFAULTS, ...stripUndefined(options) };
  let runner: DlibHogRunner | null = new DlibHogRunner(model);
  const live = (): DlibHogRunner => {
    if (!runner) throw new FerkitError('E_DISPOSED', 'dlib detector: detect() after dispose()');
    return runner;
  };
  const detectRaw = (image: RgbImage, upsample = defaults.upsample, adjustThreshold = defaults.adjustThreshold) => {
    const r = live();
    checkDlibHogOptions({ upsample, adjustThreshold });
    checkImage(image);
    const grown = image.width * image.height * 4 ** upsample;
    if (grown > DLIB_HOG_MAX_PIXELS)
      throw new FerkitError(
        'E_INPUT',
        `dlib detector: upsample ${upsample} would make the ${image.width}x${image.height} image ${Math.round(grown / 1e6)} Mpx (limit ${DLIB_HOG_MAX_PIXELS / 1e6} Mpx)`,
      );
    return r.run(image, upsample, adjustThreshold);
  };
  return {
    name: 'dlib',
    model,
    options: defaults,
    detectRaw,
    detect(image, callOptions = {}) {
      checkDlibHogOptions(callOptions);
      const o = { ...defaults, ...stripUndefined(callOptions) };
      const out: DlibHogDetection[] = [];
      for (const d of detectRaw(image, o.upsample, o.adjustThreshold)) {
        const [l, t, r, b] = d.rect;
        const box = { x: l, y: t, width: r - l + 1, height: b - t + 1 };
        const score = dlibHogScore(d.confidence);
        if (score < o.scoreThreshold || Math.min(box.width, box.height) < o.minFaceSize) continue;
        out.push({ box, score, confidence: d.confidence, weightIndex: d.weightIndex });
        if (out.length >= o.maxFaces) break;
      }
      return out;
    },
    dispose() {
      runner = null;
    },
  };
}
