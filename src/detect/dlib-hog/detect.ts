/**
 * dlib's frontal face detector end to end, as `detector.run(img, upsample, adjust_threshold)` of
 * dlib's Python API runs it (tools/python/src/simple_object_detector_py.h):
 *  1. pyramid_up (pyramid_down<2>) `upsample` times;
 *  2. object_detector::operator(): the fHOG pyramid (pyramid_down<6> levels while the level is at
 *     least minPyramidLayer pixels a side), every filter scanned at every level with threshold
 *     `filter.threshold + adjustThreshold`, confidence = saliency − filter.threshold;
 *  3. all windows sorted by confidence, best first, then non-max suppression;
 *  4. each rectangle mapped back with pyramid_down<2>::rect_down(rect, upsample).
 */
import type { RgbImage } from '../../types.js';
import { FhogExtractor, fhogShape } from './fhog.js';
import type { DlibHogModel } from './model.js';
import { suppressOverlaps } from './nms.js';
import { pyramidDown6, pyramidLevelCount, pyramidUp2, type Rect, rectDown2 } from './pyramid.js';
import { type RawWindow, ScanBuffers, scanLevel } from './scan.js';
import { createSimdFilter } from './simd-filter.js';

/** One of dlib's detections: its rectangle (inclusive sides), confidence and filter (weight_index). */
export interface DlibRectDetection {
  rect: Rect;
  confidence: number;
  weightIndex: number;
}

/** Reusable state: the fHOG extractor's and the scanner's buffers. */
export class DlibHogRunner {
  private readonly fhog: FhogExtractor;
  private readonly buffers: ScanBuffers;
  private readonly wasm: boolean;

  /**
   * `wasm: false` forces the plain-TypeScript loops instead of the generated WebAssembly kernels
   * (same results, slower; the tests compare both paths with dlib).
   */
  constructor(
    readonly model: DlibHogModel,
    options: { wasm?: boolean } = {},
  ) {
    this.wasm = options.wasm !== false;
    const simd = this.wasm ? createSimdFilter(model.filterWidth, model.filterHeight) : null;
    this.buffers = new ScanBuffers(simd, model.filters);
    this.fhog = new FhogExtractor(this.wasm);
  }

  /** Whether the filters run on WebAssembly SIMD. */
  get usesSimd(): boolean {
    return this.buffers.simd !== null;
  }

  /** detector.run(img, upsample, adjustThreshold), in dlib's order of results. */
  run(image: RgbImage, upsample: number, adjustThreshold: number): DlibRectDetection[] {
    let img = image;
    for (let i = 0; i < upsample; i++) img = pyramidUp2(img, this.wasm);
    const dets = this.detect(img, adjustThreshold);
    if (upsample > 0) for (const d of dets) d.rect = rectDown2(d.rect, upsample);
    return dets;
  }

  /** object_detector::operator()(img, dets, adjust_threshold). */
  detect(img: RgbImage, adjustThreshold: number): DlibRectDetection[] {
    const m = this.model;
    const geometry = {
      cellSize: m.cellSize,
      filterWidth: m.filterWidth,
      filterHeight: m.filterHeight,
      boxWidth: m.filterWidth - 2 * m.padding,
      boxHeight: m.filterHeight - 2 * m.padding,
    };
    if (img.width === 0 || img.height === 0) return [];
    const levels = pyramidLevelCount(
      img.width,
      img.height,
      m.minPyramidLayerWidth,
      m.minPyramidLayerHeight,
      m.maxPyramidLevels,
    );
    // Windows per filter, as dlib collects them (filter by filter, each level in turn).
    const perFilter: RawWindow[][] = m.filters.map(() => []);
    let level = img;
    for (let l = 0; l < levels; l++) {
      if (l > 0) level = pyramidDown6(level, this.wasm);
      const shape = fhogShape(level.width, level.height, m.cellSize, m.filterHeight, m.filterWidth);
      this.buffers.ensure(shape.width * shape.height);
      const target = { data: this.buffers.planes };
      const planes = this.fhog.extract(level, m.cellSize, m.filterHeight, m.filterWidth, target);
      m.filters.forEach((filter, i) => {
        scanLevel(this.buffers, planes, filter, i, filter.threshold + adjustThreshold, geometry, l, perFilter[i]);
      });
    }
    const all: DlibRectDetection[] = [];
    perFilter.forEach((windows, i) => {
      // Stable sorts: dlib's std::sort is not, so exact ties may come out in another order.
      windows.sort((a, b) => b.score - a.score);
      const t = m.filters[i].threshold;
      for (const w of windows) all.push({ rect: w.rect, confidence: w.score - t, weightIndex: i });
    });
    if (m.filters.length > 1) all.sort((a, b) => b.confidence - a.confidence);
    return suppressOverlaps(all, m.overlapIou, m.overlapCovered);
  }
}
