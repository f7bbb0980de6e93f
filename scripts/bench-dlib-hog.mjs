#!/usr/bin/env node
// ferkit's dlib HOG detector vs dlib's C++, side by side (src/bench/dlib-hog.ts). Needs `npm run build`
// and Debian's libdlib-dev. Usage: node scripts/bench-dlib-hog.mjs [repeats=5] [upsamples=0,1]
import { benchDlibHog, formatDlibHogBench } from '../dist/bench/dlib-hog.js';

const repeats = Number(process.argv[2] ?? 5);
const upsamples = (process.argv[3] ?? '0,1').split(',').map(Number);
const report = await benchDlibHog({
  repeats,
  upsamples,
  onProgress: (done, total) => process.stderr.write(`\r${done}/${total} photos`),
});
process.stderr.write('\n');
console.log(formatDlibHogBench(report));
