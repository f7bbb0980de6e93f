import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FerkitError } from '../errors.js';
import { type OutputFormat, ResultWriter } from '../pipeline/records.js';
import { openQueue, type QueueClient } from '../queue/client.js';
import { DEFAULT_QUEUE_NAME, DEFAULT_REDIS_URL } from '../queue/connection.js';
import { addInputs } from '../queue/enqueue.js';
import { expandQueueInputs } from '../queue/inputs.js';
import { DEFAULT_RETRY, jobAnalysisOptions } from '../queue/jobs.js';
import { type QueueStatus, queueStatus } from '../queue/status.js';
import { isVideoRecord, videoCsvRows } from '../queue/video-record.js';
import { ANALYSIS_ARGS, analysisHelp, parseAnalysisOptions } from './analysis-options.js';
import { type Command, parseChoice, parseCommandArgs, parseNumber, UsageError } from './command.js';
import { formatSeconds, ProgressBar } from './progress.js';
import { parseTrackingOptions } from './tracking-options.js';

const CONNECTION_HELP = `  --redis URL               Redis (default ${DEFAULT_REDIS_URL}; redis://[user:pass@]host:port/db)
  --queue NAME              queue name (default ${DEFAULT_QUEUE_NAME}); one archive per name`;

const addHelp = `Usage: ferkit queue add <files | folders | globs | manifest.txt | URLs…> [options]

Queues images and videos for 'ferkit worker' processes on any number of machines. Each input's
key is the sha256 of its content plus the analysis options: adding the same archive twice adds
nothing, and a renamed copy is analysed once (its result is listed under the first name). Paths are
stored absolute, so workers must see the same files at the same place (a shared volume); http(s)
URLs are fetched by the workers. A video becomes segment jobs (--segment seconds each) that run in
parallel and are stitched into one timeline whose face tracks continue across segment boundaries.
Prints how many inputs were added, skipped as known, and refused (unreadable paths, unreachable
URLs, videos ffprobe cannot read); the exit code is 1 when any was refused.

Options:
${CONNECTION_HELP}
${analysisHelp(28, ['threads'])}
  --every N                 videos: analyse every Nth frame (default 1)
  --smooth ALPHA            videos: tracker EMA weight 0 < ALPHA ≤ 1 (default 0.4)
  --segment S               videos: seconds per segment job (default 10; 0 = one job per video)
  --attempts N              tries per job before it fails (default ${DEFAULT_RETRY.attempts}; corrupt, empty,
                            too large or missing inputs fail at once)
  --backoff MS              first retry delay, doubled each retry (default ${DEFAULT_RETRY.backoffMs})
  --json                    print the report as JSON

A manifest is a .txt file with one path or URL per line (# comments; paths relative to it).

Example:
  ferkit queue add /archive/photos /archive/videos/*.mp4 --redis redis://queue-host:6379`;

const statusHelp = `Usage: ferkit queue status [options]

Inputs (total, finished ok / failed, pending), BullMQ jobs by state, inputs finished per second
over the last three minutes and an ETA.

Options:
${CONNECTION_HELP}
  --json                    as JSON (with --watch: one JSON object per line)
  --watch                   keep watching (a progress bar on a terminal) until nothing is left
  --interval S              seconds between updates with --watch (default 2)`;

const resultsHelp = `Usage: ferkit queue results --out FILE [options]

Exports every finished input exactly once, in the order they were added, in the record shape of
'ferkit analyze' ({ file, width, height, faces } or { file, error, code }); a video's record is
{ file, width, height, video: <the summary 'ferkit video --summary' writes>, timeline: <its
--timeline rows> } (CSV: one row per face track with its dominant label and mean probabilities).
Results are streamed from Redis in chunks, so an archive of any size exports in constant memory.
Can run at any time; inputs not finished yet are counted on stderr (exit code 1 if any).

Options:
${CONNECTION_HELP}
  --out FILE                write here ('-' for stdout)
  --format jsonl|csv|json   default: from FILE's extension, else jsonl`;

const help = `Usage: ferkit queue <add | status | results> [options]

Analyse a whole archive on many machines: 'queue add' puts images and videos on a Redis-backed
BullMQ queue, any number of 'ferkit worker' processes analyse them, 'queue status' shows progress
and 'queue results' exports the records. Run 'ferkit queue <sub-command> --help' for its options.

${addHelp}

${statusHelp}

${resultsHelp}`;

const CONNECTION_ARGS = { redis: { type: 'string' }, queue: { type: 'string' } } as const;

async function withQueue<T>(values: { redis?: string; queue?: string }, f: (q: QueueClient) => Promise<T>) {
  const client = await openQueue(values.redis ?? DEFAULT_REDIS_URL, values.queue ?? DEFAULT_QUEUE_NAME);
  try {
    return await f(client);
  } finally {
    await client.close();
  }
}

async function add(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    ...CONNECTION_ARGS,
    ...ANALYSIS_ARGS,
    every: { type: 'string' },
    smooth: { type: 'string' },
    segment: { type: 'string' },
    attempts: { type: 'string' },
    backoff: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('no inputs given');
  if (values.threads !== undefined) throw new UsageError('--threads is a worker option (ferkit worker --threads)');
  const analysis = jobAnalysisOptions(parseAnalysisOptions(values));
  const { every, smoothing } = parseTrackingOptions({ every: values.every, smooth: values.smooth }, 'video');
  const segmentSeconds = parseNumber(values.segment, '--segment', 0, 86_400) ?? 10;
  const attempts = parseNumber(values.attempts, '--attempts', 1, 100) ?? DEFAULT_RETRY.attempts;
  const backoffMs = parseNumber(values.backoff, '--backoff', 0, 3_600_000) ?? DEFAULT_RETRY.backoffMs;
  const files = await expandQueueInputs(positionals);
  if (files.length === 0) throw new FerkitError('E_NOT_FOUND', `no images or videos found in ${positionals.join(' ')}`);
  return withQueue(values, async ({ queue, flows, store }) => {
    const progress = new ProgressBar(files.length, 'inputs');
    const report = await addInputs(queue, flows, store, files, {
      analysis,
      video: { every, ...(smoothing !== undefined ? { smoothing } : {}) },
      segmentSeconds,
      retry: { attempts: Math.round(attempts), backoffMs },
      onProgress: (done) => progress.update(done),
    });
    progress.finish();
    if (values.json) console.log(JSON.stringify(report));
    else {
      for (const r of report.refused) console.error(`refused: ${r.error}`);
      console.log(
        `${report.added} added (${report.jobs} jobs), ${report.known} skipped as known, ${report.refused.length} refused — queue "${queue.name}"`,
      );
    }
    return report.refused.length ? 1 : 0;
  });
}

function statusLine(s: QueueStatus): string {
  const { inputs: i, jobs: j } = s;
  return (
    `${i.finished}/${i.total} inputs done (${i.ok} ok, ${i.failed} failed, ${i.pending} pending); ` +
    `jobs: ${j.waiting} waiting, ${j.active} active, ${j.delayed} delayed, ${j.waitingChildren} videos stitching later, ${j.failed} failed; ` +
    `${s.inputsPerSecond.toFixed(2)} inputs/s, ETA ${s.etaSeconds === null ? '?' : formatSeconds(s.etaSeconds)}`
  );
}

const isIdle = (s: QueueStatus) => s.inputs.pending === 0 && s.jobs.active === 0 && s.jobs.waiting === 0;

async function status(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...CONNECTION_ARGS,
    json: { type: 'boolean' },
    watch: { type: 'boolean' },
    interval: { type: 'string' },
  });
  const intervalMs = (parseNumber(values.interval, '--interval', 0.1, 3600) ?? 2) * 1000;
  return withQueue(values, async ({ queue, store }) => {
    const print = (s: QueueStatus) => console.log(values.json ? JSON.stringify(s) : statusLine(s));
    let s = await queueStatus(queue, store);
    if (!values.watch) {
      if (values.json) console.log(JSON.stringify(s, null, 2));
      else print(s);
      return 0;
    }
    const bar = !values.json && process.stderr.isTTY === true;
    let progress = new ProgressBar(s.inputs.total, 'inputs', bar);
    for (;;) {
      if (bar) {
        progress.update(s.inputs.finished, `${s.inputs.failed} failed, ${s.jobs.active} active`);
      } else print(s);
      if (isIdle(s)) break;
      await new Promise((r) => setTimeout(r, intervalMs));
      const total = s.inputs.total;
      s = await queueStatus(queue, store);
      if (s.inputs.total !== total) progress = new ProgressBar(s.inputs.total, 'inputs', bar);
    }
    if (bar) {
      progress.finish();
      print(s);
    }
    return 0;
  });
}

async function results(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    ...CONNECTION_ARGS,
    out: { type: 'string' },
    format: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.out) throw new UsageError('--out FILE is required (- for stdout)');
  const fromExt = /\.(csv|json|jsonl)$/i.exec(values.out)?.[1].toLowerCase() as OutputFormat | undefined;
  const format: OutputFormat =
    parseChoice(values.format, '--format', ['jsonl', 'csv', 'json'] as const) ?? fromExt ?? 'jsonl';
  return withQueue(values, async ({ store }) => {
    const progress = { pending: 0 };
    let n = 0;
    let errors = 0;
    // records → text chunks through a pipeline: backpressure keeps memory constant for any size
    const chunks: string[] = [];
    const writer = new ResultWriter(format, (s) => chunks.push(s));
    async function* text(): AsyncGenerator<string> {
      for await (const r of store.records(500, progress)) {
        n++;
        if ('error' in r) errors++;
        if (format === 'csv' && isVideoRecord(r)) chunks.push(videoCsvRows(r).join('\n') + '\n');
        else writer.add(r as Parameters<ResultWriter['add']>[0]);
        if (chunks.length >= 200) yield chunks.splice(0).join('');
      }
      writer.end();
      yield chunks.splice(0).join('');
    }
    const toStdout = values.out === '-';
    await pipeline(
      Readable.from(text()),
      toStdout ? process.stdout : createWriteStream(values.out as string),
      ...(toStdout ? [{ end: false }] : []),
    );
    console.error(
      `${n} results (${errors} failed)${progress.pending ? `, ${progress.pending} inputs not finished yet` : ''}${toStdout ? '' : ` → ${values.out}`}`,
    );
    return progress.pending ? 1 : 0;
  });
}

const SUBCOMMANDS: Record<string, { help: string; run(argv: string[]): Promise<number> }> = {
  add: { help: addHelp, run: add },
  status: { help: statusHelp, run: status },
  results: { help: resultsHelp, run: results },
};

const command: Command = {
  name: 'queue',
  summary: 'analyse an archive on many machines: add to a Redis queue, status, export results',
  help,
  helpFor: (argv) => SUBCOMMANDS[argv[0]]?.help ?? help,
  async run(argv) {
    const [sub, ...rest] = argv;
    const s = SUBCOMMANDS[sub];
    if (!s)
      throw new UsageError(
        sub ? `unknown sub-command "${sub}" (add, status, results)` : 'expected add, status or results',
      );
    return s.run(rest);
  },
};

export default command;
