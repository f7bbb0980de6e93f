/** The piscina variant's worker thread (see piscina-pool.ts): the same task runner as worker.ts. */
import { workerData } from 'piscina';
import type { AnalyzeTask, WorkerConfig } from './protocol.js';
import { createTaskRunner } from './task-runner.js';

const runner = await createTaskRunner(workerData as WorkerConfig);

export default async (msg: { info: true } | { id: number; task: AnalyzeTask }) =>
  'info' in msg ? runner.info : runner.run(msg.id, msg.task);
