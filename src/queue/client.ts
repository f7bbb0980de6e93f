/** The producer/reader side of a queue for one-shot commands (add, status, results). */
import { FlowProducer, Queue } from 'bullmq';
import { checkRedis, oneShotConnection, redisClient, whenReady } from './connection.js';
import { QueueStore } from './store.js';

export interface QueueClient {
  queue: Queue;
  flows: FlowProducer;
  store: QueueStore;
  close(): Promise<void>;
}

/** Checks Redis first (a clear error naming the URL when it is unreachable), then connects fail-fast. */
export async function openQueue(redisUrl: string, queueName: string): Promise<QueueClient> {
  await checkRedis(redisUrl);
  const connection = oneShotConnection(redisUrl);
  const queue = new Queue(queueName, { connection });
  const flows = new FlowProducer({ connection });
  const redis = redisClient(connection);
  // errors surface through the commands' rejections; keep the emitters from throwing them again
  queue.on('error', () => {});
  flows.on('error', () => {});
  await Promise.all([queue.waitUntilReady(), flows.waitUntilReady(), whenReady(redis)]);
  return {
    queue,
    flows,
    store: new QueueStore(redis, queueName),
    async close() {
      await Promise.allSettled([queue.close(), flows.close()]);
      redis.disconnect();
    },
  };
}
