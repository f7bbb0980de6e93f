/**
 * Node: the one-time extraction of dlib's frontal face detector into ferkit's JSON model format
 * (src/detect/dlib-hog/model.ts). A small C++ program, compiled against Debian's libdlib-dev with
 * buildDlibProgram, deserializes get_frontal_face_detector() (the base64 compress_stream blob in
 * dlib/image_processing/frontal_face_detector.h) and prints the scanner's geometry, the overlap test
 * and, for each of the 5 weight vectors, its threshold and the separable filters that dlib's own
 * build_fhog_filterbank derives from it (so ferkit needs no SVD of its own and gets dlib's floats).
 * Nothing of dlib is committed: the model is written to `.cache/models/` on first use.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DLIB_HOG_FORMAT, parseDlibHogModel } from '../detect/dlib-hog/model.js';
import { FerkitError } from '../errors.js';
import { buildDlibProgram } from './dlib-native.js';
import { modelCacheDir } from './paths.js';

const execFileAsync = promisify(execFile);

export const DLIB_HOG_MODEL_FILE = 'dlib_frontal_face_detector.json';

const EXTRACT_SOURCE = `// ferkit: print dlib's frontal face detector as ferkit's JSON model (${DLIB_HOG_FORMAT}).
#include <dlib/image_processing/frontal_face_detector.h>
#include <cstdio>
using namespace dlib;
static void vec(const matrix<float,0,1>& v) {
  std::printf("[");
  for (long i = 0; i < v.size(); ++i) std::printf("%s%.9g", i ? "," : "", v(i));
  std::printf("]");
}
int main() {
  frontal_face_detector d = get_frontal_face_detector();
  const auto& s = d.get_scanner();
  const auto t = d.get_overlap_tester();
  std::printf("{\\"format\\":\\"${DLIB_HOG_FORMAT}\\",\\"cellSize\\":%d,\\"padding\\":%lu,", s.get_cell_size(), s.get_padding());
  std::printf("\\"windowWidth\\":%lu,\\"windowHeight\\":%lu,", s.get_detection_window_width(), s.get_detection_window_height());
  std::printf("\\"filterWidth\\":%lu,\\"filterHeight\\":%lu,", s.get_fhog_window_width(), s.get_fhog_window_height());
  std::printf("\\"maxPyramidLevels\\":%lu,\\"minPyramidLayerWidth\\":%lu,\\"minPyramidLayerHeight\\":%lu,",
              s.get_max_pyramid_levels(), s.get_min_pyramid_layer_width(), s.get_min_pyramid_layer_height());
  std::printf("\\"numPlanes\\":%lu,", (unsigned long)s.get_feature_extractor().get_num_planes());
  std::printf("\\"overlapIou\\":%.17g,\\"overlapCovered\\":%.17g,\\"detectors\\":[", t.get_iou_thresh(), t.get_percent_covered_thresh());
  for (unsigned long i = 0; i < d.num_detectors(); ++i) {
    const auto& fb = d.get_processed_w(i).get_detect_argument();
    std::printf("%s{\\"threshold\\":%.17g,\\"separable\\":[", i ? "," : "", d.get_processed_w(i).w(s.get_num_dimensions()));
    bool first = true;
    for (unsigned long p = 0; p < fb.row_filters.size(); ++p)
      for (unsigned long j = 0; j < fb.row_filters[p].size(); ++j) {
        std::printf("%s{\\"plane\\":%lu,\\"row\\":", first ? "" : ",", p);
        vec(fb.row_filters[p][j]);
        std::printf(",\\"col\\":");
        vec(fb.col_filters[p][j]);
        std::printf("}");
        first = false;
      }
    std::printf("]}");
  }
  std::printf("]}\\n");
  return 0;
}
`;

/** Where the extracted model lives: `<model cache>/dlib_frontal_face_detector.json`. */
export function dlibHogModelPath(): string {
  return join(modelCacheDir(), DLIB_HOG_MODEL_FILE);
}

/**
 * Extract dlib's frontal face detector into the model cache unless it is already there; returns the
 * path. Builds the extractor once (~15 s; cached under .cache/dlib/). Missing g++ or libdlib-dev is
 * FerkitError('E_MODEL') naming the Debian packages. `npm run models` calls this.
 */
export async function ensureDlibHogModel(options: { force?: boolean } = {}): Promise<string> {
  const path = dlibHogModelPath();
  if (!options.force && existsSync(path)) return path;
  const binary = await buildDlibProgram({ name: 'dlib-hog-extract', source: EXTRACT_SOURCE });
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(binary, [], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (e) {
    throw new FerkitError('E_MODEL', `dlib-hog-extract failed: ${(e as Error).message}`, { cause: e });
  }
  parseDlibHogModel(stdout, 'dlib-hog-extract output'); // refuse to cache anything malformed
  await mkdir(modelCacheDir(), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, stdout);
  await rename(tmp, path);
  return path;
}
