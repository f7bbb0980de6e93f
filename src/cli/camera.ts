import { existsSync } from 'node:fs';
import { FerkitError } from '../errors.js';
import { createAnalyzer } from '../node/analyzer.js';
import { renderAnnotated } from '../node/render.js';
import { ChartData, writeTimelineChart } from '../video/chart.js';
import { decodeFrames, probeVideo, requireFfmpeg } from '../video/ffmpeg.js';
import { latestFrames, writeFileAtomic } from '../video/live.js';
import { analyzeFrames, trackedToJson } from '../video/process.js';
import { formatSummary, SummaryBuilder, summaryPathFor, TimelineWriter, writeSummary } from '../video/timeline.js';
import { analysisHelp } from './analysis-options.js';
import { type Command, parseCommandArgs, parseNumber, UsageError } from './command.js';
import { DEFAULT_DETECT_EVERY, parseTrackingOptions, TRACKING_ARGS } from './tracking-options.js';

const help = `Usage: ferkit camera [options]

Live expression tracking from a V4L2 camera (Linux, through ffmpeg -f v4l2), or from a
video file with --input (the same path, e.g. to test without a camera). Prints one JSON
line per analysed frame to stdout:
  {"frame":12,"time":0.4,"faces":[{"id":1,"box":{…},"score":0.98,"label":"happy",
   "probabilities":{…smoothed…},"rawProbabilities":{…},"age":12}],"ms":85.2}
A summary goes to stderr when the stream ends (end of file, --frames/--duration, or Ctrl-C).

From a camera the newest frame is always analysed and frames that arrive while the
analyser is busy are dropped (no latency builds up). From a file every frame (or every
Nth, --every) is analysed unless --realtime.

Options:
  --device PATH          V4L2 device (default /dev/video0)
  --input FILE           read a video file instead of a camera
  --size WxH             capture size for the camera (default 640x480); with --input,
                         frames are scaled to it when given
  --fps N                capture rate for the camera / resample a file to N fps
  --input-format F       camera pixel format, e.g. mjpeg or yuyv422 (default: driver's)
  --realtime             with --input: read at the file's native rate and drop frames
                         like a live camera
  --every N              analyse every Nth frame (default 1)
  --detect-every N       of the analysed frames, run the face detector on every Nth and
                         follow faces by their 68 points in between (default ${DEFAULT_DETECT_EVERY.camera})
  --smooth ALPHA         EMA weight of the newest frame, 0 < ALPHA ≤ 1 (default 0.4)
  --frames N             stop after N frames
  --duration S           stop after S seconds
  --preview FILE         write the latest annotated frame to FILE (.jpg or .png; replaced
                         atomically at most 5× a second) — there is no GUI window; open
                         FILE in an auto-refreshing viewer (e.g. 'feh -R 0.2 FILE')
  --timeline FILE        the timeline (CSV, or JSON by extension) + FILE.summary.json
  --plot FILE.png        timeline chart
${analysisHelp(25)}
  -h, --help             this help

Examples:
  ferkit camera --preview /tmp/ferkit.jpg
  ferkit camera --input clip.mp4 --timeline clip.csv > frames.jsonl`;

function parseSize(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || +m[1] < 16 || +m[2] < 16 || +m[1] > 8192 || +m[2] > 8192)
    throw new UsageError(`--size: expected WxH such as 640x480, got "${v}"`);
  return [+m[1] & ~1, +m[2] & ~1];
}

const command: Command = {
  name: 'camera',
  summary: 'live expression tracking from a V4L2 camera (or a file), JSON lines',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      device: { type: 'string' },
      input: { type: 'string' },
      size: { type: 'string' },
      fps: { type: 'string' },
      'input-format': { type: 'string' },
      realtime: { type: 'boolean' },
      frames: { type: 'string' },
      duration: { type: 'string' },
      preview: { type: 'string' },
      ...TRACKING_ARGS,
    });
    if (positionals.length)
      throw new UsageError(`unexpected argument "${positionals[0]}" (use --input FILE for a file)`);
    if (values.device && values.input) throw new UsageError('give --device or --input, not both');
    const size = parseSize(values.size);
    const fps = parseNumber(values.fps, '--fps', 0.1, 240);
    const { every, detectEvery, smoothing, analyzer: analyzerOptions } = parseTrackingOptions(values, 'camera');
    const maxFrames = parseNumber(values.frames, '--frames', 1);
    const maxSeconds = parseNumber(values.duration, '--duration', 0.001);
    if (values.preview && !/\.(jpe?g|png)$/i.test(values.preview))
      throw new UsageError('--preview: expected a .jpg or .png file name');

    await requireFfmpeg();
    let width: number;
    let height: number;
    let rate: number;
    let live: boolean;
    let decoder: ReturnType<typeof decodeFrames>;
    const source = values.input ?? values.device ?? '/dev/video0';
    if (values.input) {
      const info = await probeVideo(values.input);
      [width, height] = size ?? [info.width, info.height];
      rate = fps ?? info.fps;
      live = values.realtime === true;
      decoder = decodeFrames({ input: values.input, width, height, fps, realtime: live });
    } else {
      if (!existsSync(source))
        throw new FerkitError(
          'E_NOT_FOUND',
          `${source}: no camera there (try --device /dev/videoN, or --input FILE for a video file)`,
        );
      [width, height] = size ?? [640, 480];
      rate = fps ?? 30;
      live = true;
      decoder = decodeFrames({
        input: source,
        format: 'v4l2',
        inputArgs: [
          '-video_size',
          `${width}x${height}`,
          ...(fps ? ['-framerate', String(fps)] : []),
          ...(values['input-format'] ? ['-input_format', values['input-format']] : []),
        ],
        width,
        height,
      });
    }
    const analyzer = await createAnalyzer(analyzerOptions).catch((e) => {
      decoder.stop();
      throw e;
    });
    const stop = () => decoder.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const latest = live ? latestFrames(decoder) : undefined;
    const timeline = values.timeline ? new TimelineWriter(values.timeline) : undefined;
    const summary = new SummaryBuilder();
    const chart = values.plot ? new ChartData() : undefined;
    const t0 = performance.now();
    let frames = 0;
    let processed = 0;
    let lastPreview = 0;
    let previewing: Promise<void> | undefined;
    try {
      for await (const f of analyzeFrames(latest ?? decoder, {
        analyzer,
        fps: rate,
        every: live ? 1 : every,
        detectEvery,
        smoothing,
      })) {
        frames = f.index + 1;
        if (f.processed) {
          processed++;
          timeline?.add(f.rows);
          summary.add(f.rows);
          chart?.add(f.rows);
          const line = {
            frame: f.index,
            time: Math.round(f.time * 1000) / 1000,
            faces: trackedToJson(f.faces),
            ms: Math.round((f.timings?.total ?? 0) * 10) / 10,
          };
          if (!process.stdout.write(JSON.stringify(line) + '\n'))
            await new Promise((r) => process.stdout.once('drain', r));
          if (values.preview && !previewing && performance.now() - lastPreview > 200) {
            lastPreview = performance.now();
            const path = values.preview;
            const format = /\.png$/i.test(path) ? 'png' : 'jpeg';
            previewing = renderAnnotated(f.image, f.faces, { format, ids: f.faces.map((x) => x.id), quality: 85 })
              .then((bytes) => writeFileAtomic(path, bytes))
              .catch((e) => console.error(`ferkit camera: preview: ${(e as Error).message}`))
              .finally(() => {
                previewing = undefined;
              });
          }
        }
        if ((maxFrames && frames >= maxFrames) || (maxSeconds && (performance.now() - t0) / 1000 >= maxSeconds)) {
          decoder.stop();
          break;
        }
      }
      await decoder.done;
      await previewing;
      await timeline?.close();
      const wallS = (performance.now() - t0) / 1000;
      const result = summary.build({
        input: source,
        frames,
        processedFrames: processed,
        fps: rate,
        duration: frames / rate,
      });
      const summaryPath = values.timeline ? summaryPathFor(values.timeline) : undefined;
      if (summaryPath) await writeSummary(summaryPath, result);
      if (chart && values.plot)
        await writeTimelineChart(values.plot, chart, result, {
          every: live ? 1 : every,
          fps: rate,
          duration: frames / rate,
          title: `Expressions over time — ${source}`,
        });
      console.error(formatSummary(result));
      console.error(
        `${processed} frames analysed in ${wallS.toFixed(1)} s (${(processed / wallS).toFixed(1)} fps)${latest ? `, ${latest.dropped} dropped while busy` : ''}`,
      );
      return 0;
    } finally {
      decoder.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await analyzer.dispose();
    }
  },
};

export default command;
