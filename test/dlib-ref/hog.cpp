// ferkit's reference for the dlib HOG face detector port (src/detect/dlib-hog/): runs dlib's own
// get_frontal_face_detector() on raw RGB pixels exactly as dlib's Python API `detector.run(img, N, 0)`
// does (pyramid_up N times with pyramid_down<2>, detect, map rectangles back with rect_down), and
// prints one line per detection: "left top right bottom confidence weight_index".
// Built by test/dlib-hog.test.ts and src/bench/dlib-hog.ts with buildDlibProgram (src/node/dlib-native.ts).
//
// usage: hog <upsample> <repeats> <width> <height> <file.rgb>
//   file.rgb: width*height*3 bytes, row-major RGB. With repeats > 1 the detector runs that many
//   times and the median wall time is printed last as "ms <median>" (the detections are those of
//   the last run).
#include <dlib/image_processing/frontal_face_detector.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>
using namespace dlib;

int main(int argc, char** argv) {
  if (argc != 6) { std::fprintf(stderr, "usage: hog <upsample> <repeats> <width> <height> <file.rgb>\n"); return 2; }
  const unsigned upsample = std::atoi(argv[1]);
  const int repeats = std::max(1, std::atoi(argv[2]));
  const long w = std::atol(argv[3]), h = std::atol(argv[4]);
  std::ifstream in(argv[5], std::ios::binary);
  std::vector<unsigned char> buf(w * h * 3);
  if (!in.read(reinterpret_cast<char*>(buf.data()), buf.size())) { std::fprintf(stderr, "cannot read %s\n", argv[5]); return 2; }
  array2d<rgb_pixel> img(h, w);
  for (long r = 0; r < h; ++r)
    for (long c = 0; c < w; ++c) {
      const unsigned char* p = &buf[(r * w + c) * 3];
      img[r][c] = rgb_pixel(p[0], p[1], p[2]);
    }
  frontal_face_detector detector = get_frontal_face_detector();
  std::vector<rect_detection> dets;
  std::vector<double> times;
  for (int k = 0; k < repeats; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    // As tools/python/src/simple_object_detector_py.h run_detector_with_upscale1 (adjust_threshold 0).
    pyramid_down<2> pyr;
    if (upsample == 0) {
      detector(img, dets, 0);
    } else {
      array2d<rgb_pixel> temp;
      pyramid_up(img, temp, pyr);
      for (unsigned l = 1; l < upsample; ++l) pyramid_up(temp);
      detector(temp, dets, 0);
      for (auto& d : dets) d.rect = pyr.rect_down(d.rect, upsample);
    }
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  for (const auto& d : dets)
    std::printf("%ld %ld %ld %ld %.17g %lu\n", d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(),
                d.detection_confidence, d.weight_index);
  if (repeats > 1) {
    std::sort(times.begin(), times.end());
    std::printf("ms %.3f\n", times[times.size() / 2]);
  }
  return 0;
}
