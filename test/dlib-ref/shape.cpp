// Reference program for ferkit's port of dlib's shape_predictor and for the AFW box mapping: dlib's
// own output, built against Debian's libdlib-dev by buildDlibProgram (src/node/dlib-native.ts).
//
// Images come on stdin as raw RGB (a line "W H N", then W*H*3 bytes, row-major, then N lines
// "left top right bottom"), so dlib sees exactly ferkit's pixels; repeated per image.
//   shape points MODEL          stdout per box: one line, dlib's 68 points (full_object_detection:
//                               integer pixels) as "x0 y0 x1 y1 ...".
//   shape bench MODEL REPEATS   stdout: "load_ms L" and, per box, "median_us U" (median over
//                               REPEATS runs of the predictor on that box).
//   shape hog UPSAMPLE          (N = 0) stdout per image: "N" then N lines "left top right bottom"
//                               from get_frontal_face_detector(), like dlib's Python detector(img, N).
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace dlib;

static bool read_rgb(long w, long h, array2d<rgb_pixel>& img) {
    if (std::cin.get() != '\n') return false;
    std::vector<unsigned char> buf(w * h * 3);
    if (!std::cin.read(reinterpret_cast<char*>(buf.data()), buf.size())) return false;
    img.set_size(h, w);
    for (long y = 0; y < h; ++y)
        for (long x = 0; x < w; ++x) {
            const unsigned char* p = &buf[(y * w + x) * 3];
            img[y][x] = rgb_pixel(p[0], p[1], p[2]);
        }
    return true;
}

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    if (argc < 2) { std::cerr << "usage: shape points|bench|hog ...\n"; return 2; }
    const std::string mode = argv[1];
    if (mode == "hog") {
        const int upsample = argc > 2 ? std::atoi(argv[2]) : 1;
        frontal_face_detector detector = get_frontal_face_detector();
        long w, h, n;
        while (std::cin >> w >> h >> n) {
            array2d<rgb_pixel> img;
            if (!read_rgb(w, h, img)) { std::cerr << "cannot read the pixels\n"; return 1; }
            // dlib's Python binding: detector(img, upsample) = pyramid_up the image N times, detect,
            // and map the rectangles back down.
            pyramid_down<2> pyr;
            array2d<rgb_pixel> up;
            assign_image(up, img);
            for (int i = 0; i < upsample; ++i) pyramid_up(up, pyr);
            std::vector<rectangle> dets = detector(up);
            std::cout << dets.size() << "\n";
            for (auto r : dets) {
                for (int i = 0; i < upsample; ++i) r = pyr.rect_down(r);
                std::cout << r.left() << " " << r.top() << " " << r.right() << " " << r.bottom() << "\n";
            }
        }
        return 0;
    }
    if (argc < 3) { std::cerr << "usage: shape points|bench MODEL\n"; return 2; }
    shape_predictor sp;
    const auto t0 = std::chrono::steady_clock::now();
    deserialize(argv[2]) >> sp;
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const int repeats = mode == "bench" && argc > 3 ? std::atoi(argv[3]) : 1;
    if (mode == "bench") std::cout << "load_ms " << load_ms << "\n";
    long w, h, n;
    while (std::cin >> w >> h >> n) {
        array2d<rgb_pixel> img;
        if (!read_rgb(w, h, img)) { std::cerr << "cannot read the pixels\n"; return 1; }
        for (long k = 0; k < n; ++k) {
            long l, t, r, b;
            std::cin >> l >> t >> r >> b;
            const rectangle rect(l, t, r, b);
            if (mode == "bench") {
                std::vector<double> times;
                for (int i = 0; i < repeats; ++i) {
                    const auto s = std::chrono::steady_clock::now();
                    full_object_detection d = sp(img, rect);
                    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s).count());
                    if (d.num_parts() == 0) return 3;
                }
                std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
                std::cout << "median_us " << times[times.size() / 2] << "\n";
                continue;
            }
            full_object_detection d = sp(img, rect);
            for (unsigned long i = 0; i < d.num_parts(); ++i)
                std::cout << (i ? " " : "") << d.part(i).x() << " " << d.part(i).y();
            std::cout << "\n";
        }
    }
    return 0;
}
