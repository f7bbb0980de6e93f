import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FerkitError } from '../errors.js';
import { createAnalyzer } from '../node/analyzer.js';
import { ChartData, writeTimelineChart } from '../video/chart.js';
import { decodeFrames, encodeFrames, type FrameEncoder, probeVideo, requireFfmpeg } from '../video/ffmpeg.js';
import { analyzeFrames, annotateFrame } from '../video/process.js';
import { formatSummary, SummaryBuilder, summaryPathFor, TimelineWriter, writeSummary } from '../video/timeline.js';
import { analysisHelp } from './analysis-options.js';
import { type Command, parseCommandArgs, parseNumber, UsageError } from './command.js';
import { ProgressBar } from './progress.js';
import { DEFAULT_DETECT_EVERY, parseTrackingOptions, TRACKING_ARGS } from './tracking-options.js';

const help = `Usage: ferkit video <input> [options]

Tracks every face through a video and its expression over time. Decodes with Debian's
ffmpeg (raw frames on a pipe), analyses every Nth frame, gives each face a stable id
(IoU tracking; ids survive misses of up to ~0.5 s), smooths its probabilities with an
exponential moving average, and optionally re-encodes an annotated copy (H.264, yuv420p,
same frame rate and frame count, the input's audio kept). A per-face summary (frames
seen, first/last time, dominant expression, share of time per expression) is printed.

Options:
  --out FILE.mp4          write the annotated video (boxes, ids, 68 points, bars)
  --timeline FILE         one row per face per analysed frame: frame, time, faceId,
                          x, y, width, height, label, angry … neutral (smoothed);
                          CSV, or JSON when FILE ends in .json. The summary is written
                          beside it as FILE's name + .summary.json
  --summary FILE.json     write the summary JSON here instead
  --plot FILE.png         timeline chart: per face, stacked probabilities over time
  --every N               analyse every Nth frame (default 1); skipped frames reuse
                          the last result in the annotated video
  --detect-every N        of the analysed frames, run the face detector on every Nth
                          and follow faces by their 68 points in between (default
                          ${DEFAULT_DETECT_EVERY.video}; 1 = detect on every analysed frame)
  --smooth ALPHA          EMA weight of the newest frame, 0 < ALPHA ≤ 1 (default 0.4;
                          1 = no smoothing)
${analysisHelp(26)}
  --crf N                 x264 quality, lower is better (default 20)
  --no-audio              do not copy the input's audio
  -h, --help              this help

Examples:
  ferkit video talk.mp4 --out talk.annotated.mp4 --timeline talk.csv --plot talk.png
  ferkit video long.mkv --every 3 --timeline long.json`;

const command: Command = {
  name: 'video',
  summary: 'track faces and expressions through a video (annotated MP4, timeline, chart)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      out: { type: 'string' },
      summary: { type: 'string' },
      ...TRACKING_ARGS,
      crf: { type: 'string' },
      'no-audio': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    });
    if (positionals.length !== 1)
      throw new UsageError(positionals.length ? 'expected exactly one input video' : 'no input video given');
    const input = positionals[0];
    const { every, detectEvery, smoothing, analyzer: analyzerOptions } = parseTrackingOptions(values, 'video');
    const crf = parseNumber(values.crf, '--crf', 0, 51);
    if (values.out && resolve(values.out) === resolve(input)) throw new UsageError('--out must not be the input file');

    if (!existsSync(input)) throw new FerkitError('E_NOT_FOUND', `${input}: no such file`);
    const info = await probeVideo(input);
    await requireFfmpeg();
    const analyzer = await createAnalyzer(analyzerOptions);
    const decoder = decodeFrames({ input, width: info.width, height: info.height });
    let encoder: FrameEncoder | undefined;
    const stop = () => decoder.stop();
    process.once('SIGINT', stop);
    try {
      encoder = values.out
        ? encodeFrames(values.out, {
            width: info.width,
            height: info.height,
            fps: info.fpsRational,
            audioFrom: info.hasAudio && !values['no-audio'] ? input : undefined,
            audioCodec: info.audioCodec,
            videoOffset: info.videoStart,
            crf,
          })
        : undefined;
      const timeline = values.timeline ? new TimelineWriter(values.timeline) : undefined;
      const summary = new SummaryBuilder();
      const chart = values.plot ? new ChartData() : undefined;
      const progress = new ProgressBar(info.frames, 'frames', !values.quiet && process.stderr.isTTY === true);
      const t0 = performance.now();
      let frames = 0;
      let processed = 0;
      let analyseMs = 0;
      for await (const f of analyzeFrames(decoder, { analyzer, fps: info.fps, every, detectEvery, smoothing })) {
        frames++;
        if (f.processed) {
          processed++;
          analyseMs += f.timings?.total ?? 0;
          timeline?.add(f.rows);
          summary.add(f.rows);
          chart?.add(f.rows);
        }
        if (encoder) await encoder.write(annotateFrame(f.image, f.faces));
        progress.update(frames, `${f.faces.length} face${f.faces.length === 1 ? '' : 's'}`);
      }
      progress.finish();
      await decoder.done;
      await encoder?.finish();
      await timeline?.close();
      const wallS = (performance.now() - t0) / 1000;
      const result = summary.build({
        input,
        frames,
        processedFrames: processed,
        fps: info.fps,
        duration: frames / info.fps,
      });
      const summaryPath = values.summary ?? (values.timeline ? summaryPathFor(values.timeline) : undefined);
      if (summaryPath) await writeSummary(summaryPath, result);
      if (chart && values.plot)
        await writeTimelineChart(values.plot, chart, result, {
          every,
          fps: info.fps,
          duration: info.duration,
          title: `Expressions over time — ${input}`,
        });
      if (!values.quiet) {
        console.log(formatSummary(result));
        console.log(
          `${frames} frames in ${wallS.toFixed(1)} s (${(frames / wallS).toFixed(1)} fps; analysis ${(analyseMs / Math.max(1, processed)).toFixed(0)} ms/frame)` +
            [
              values.out && `, video → ${values.out}`,
              values.timeline && `, timeline → ${values.timeline}`,
              summaryPath && `, summary → ${summaryPath}`,
              values.plot && `, chart → ${values.plot}`,
            ]
              .filter(Boolean)
              .join(''),
        );
      }
      return 0;
    } catch (e) {
      decoder.stop();
      encoder?.abort();
      throw e;
    } finally {
      process.off('SIGINT', stop);
      await analyzer.dispose();
    }
  },
};

export default command;
