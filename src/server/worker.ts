/**
 * An inference worker process, forked by pool.ts (its config as argv[2], tasks and answers over
 * the IPC channel); the work itself is task-runner.ts.
 */
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import { createTaskRunner, type TaskRunner } from './task-runner.js';

const send = process.send?.bind(process);
if (!send) throw new Error('ferkit server worker: must be forked with an IPC channel (by the server)');
const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const post = (m: FromWorker) => send({ ...m, rss: process.memoryUsage.rss() });
// The server decides when a worker stops: a Ctrl-C reaches the whole process group, and the
// server's graceful shutdown still needs its workers to finish the requests in flight.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
// ...and a worker never outlives its server (killed, crashed): the IPC channel closes.
process.on('disconnect', () => process.exit(0));

async function main() {
  let runner: TaskRunner;
  try {
    runner = await createTaskRunner(config);
  } catch (e) {
    post({ type: 'init-error', message: (e as Error).message });
    return;
  }
  post({ type: 'ready', info: runner.info });
  process.on('message', async (msg: ToWorker) => {
    if (msg.type === 'analyze') post(await runner.run(msg.id, msg.task));
  });
}

void main();
