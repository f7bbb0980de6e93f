/**
 * `ferkit bench follow`: frames/s and agreement with every-frame detection when the detector runs on
 * every Nth frame only (src/bench/follow.ts). src/cli/bench.ts dispatches to runFollowBench.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCHMARKS_ARGS, benchmarksHelp, writeRequestedSection } from '../bench/report.js';
import { createAnalyzer } from '../node/analyzer.js';
import { errorMessage, parseChoice, parseCommandArgs, parseNumber, UsageError } from './command.js';
import { ProgressBar } from './progress.js';
import { DEFAULT_DETECT_EVERY } from './tracking-options.js';

/** The shared videos: $FERKIT_DATA/video, else ../shared/data/video (relative to the cwd). */
function defaultVideos(): string[] {
  const dir = process.env.FERKIT_DATA ? resolve(process.env.FERKIT_DATA, 'video') : resolve('../shared/data/video');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(mp4|mkv|webm|mov|avi)$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export const FOLLOW_OPTIONS = `  VIDEO...                videos (default: every video in $FERKIT_DATA/video, else
                          ../shared/data/video)
  --every LIST            detector strides N to compare, comma-separated (default 1,2,3,5,10;
                          1, detection on every frame, is always run as the reference)
  --frames N              at most N frames per video (default: all)
  --detector blazeface|cnn|haar
                          face detector (default blazeface)
  --threads N             inference threads (default: all cores)
  --json                  print the rows as JSON`;

export const FOLLOW_BENCH_HELP = `Usage: ferkit bench follow [VIDEO...] [options]

Landmark following, as \`ferkit video --detect-every N\` and \`ferkit camera --detect-every N\`
use it (default N = ${DEFAULT_DETECT_EVERY.video} for files, ${DEFAULT_DETECT_EVERY.camera} for the camera): the face detector runs on every Nth frame only and faces are
followed by their 68 points in between. For each N: frames/s of analysis and speed-up over N = 1
(side by side in one run), and agreement with N = 1 — faces matched at IoU ≥ 0.5 (recall,
precision), mean IoU of matched boxes, and the share of matched faces with the same label.

Options:
${FOLLOW_OPTIONS}
${benchmarksHelp('follow', 26)}
  -h, --help              this help`;

const SECTION_HEADING = '## Landmark following: detector every Nth frame vs every frame';

export async function runFollowBench(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  const parse = (a: string[]) =>
    parseCommandArgs(a, {
      every: { type: 'string' },
      frames: { type: 'string' },
      detector: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...BENCHMARKS_ARGS,
    });
  let detectEvery: number[];
  let maxFrames: number | undefined;
  try {
    ({ values, positionals } = parse(argv));
    if (values.help) {
      console.log(FOLLOW_BENCH_HELP);
      return 0;
    }
    detectEvery = (values.every ?? '1,2,3,5,10').split(',').map((s) => {
      const n = parseNumber(s.trim(), '--every', 1, 1000);
      if (n === undefined || !Number.isInteger(n))
        throw new UsageError(`--every: expected whole numbers, got "${values.every}"`);
      return n;
    });
    maxFrames = parseNumber(values.frames, '--frames', 1);
  } catch (e) {
    console.error(`ferkit bench follow: ${errorMessage(e)}\n\n${FOLLOW_BENCH_HELP}`);
    return 2;
  }
  const videos = positionals.length ? positionals : defaultVideos();
  if (!videos.length) {
    console.log('ferkit bench follow: skipped, no videos given and none in ../shared/data/video (see --help)');
    return 0;
  }
  const analyzer = await createAnalyzer({
    detector: parseChoice(values.detector, '--detector', ['blazeface', 'cnn', 'haar'] as const),
    threads: parseNumber(values.threads, '--threads', 0, 256),
  });
  try {
    const { probeVideo } = await import('../video/ffmpeg.js');
    let total = 0;
    for (const v of videos) total += Math.min((await probeVideo(v)).frames, maxFrames ?? Number.POSITIVE_INFINITY);
    const progress = new ProgressBar(total, 'frames');
    const { benchFollow, followBenchMarkdown, formatFollowBench } = await import('../bench/follow.js');
    const result = await benchFollow({
      analyzer,
      videos,
      detectEvery,
      maxFrames,
      onProgress: (done) => progress.update(done),
    });
    progress.finish();
    console.log(values.json ? JSON.stringify(result, null, 2) : formatFollowBench(result));
    await writeRequestedSection(values, 'follow', SECTION_HEADING, followBenchMarkdown(result));
    return 0;
  } finally {
    await analyzer.dispose();
  }
}
