/**
 * The queue's own Redis keys beside BullMQ's: every input's key in the order it was added (a list,
 * so an export is streamed in chunks and lists each input exactly once), the set of known keys
 * (dedupe at add time), and the results hash (key → one JSON record, written by the worker that
 * finished or failed the input; rewriting it on a retried job is harmless).
 */
import type { Redis } from 'ioredis';
import type { FileResult } from '../pipeline/records.js';
import type { VideoRecord } from './video-record.js';

/** Finish times kept for the throughput window (status). */
const RECENT_MS = 3 * 60_000;

export type QueueRecord = FileResult | VideoRecord;

export class QueueStore {
  private readonly prefix: string;
  constructor(
    readonly redis: Redis,
    readonly queueName: string,
  ) {
    this.prefix = `ferkit:${queueName}`;
  }

  get keys() {
    return {
      inputs: `${this.prefix}:inputs`,
      known: `${this.prefix}:known`,
      results: `${this.prefix}:results`,
      stats: `${this.prefix}:stats`,
      recent: `${this.prefix}:recent`,
    };
  }

  /** Marks keys known in one round trip; returns for each whether it was new (the caller adds its job). */
  async claim(keys: readonly string[]): Promise<boolean[]> {
    if (!keys.length) return [];
    const pipe = this.redis.pipeline();
    for (const k of keys) pipe.sadd(this.keys.known, k);
    const replies = (await pipe.exec()) ?? [];
    const fresh = replies.map(([err, n]) => {
      if (err) throw err;
      return n === 1;
    });
    const added = keys.filter((_, i) => fresh[i]);
    if (added.length) await this.redis.rpush(this.keys.inputs, ...added);
    return fresh;
  }

  /** Forgets a claimed key whose job could not be added (so a later add tries again). */
  async unclaim(key: string): Promise<void> {
    await this.redis.multi().srem(this.keys.known, key).lrem(this.keys.inputs, 1, key).exec();
  }

  /** Stores an input's final record; counts it once per key even when a retried job writes it again. */
  async putResult(key: string, record: QueueRecord): Promise<void> {
    const created = await this.redis.hset(this.keys.results, key, JSON.stringify(record));
    if (!created) return;
    const now = Date.now();
    await this.redis
      .multi()
      .hincrby(this.keys.stats, 'error' in record ? 'failed' : 'ok', 1)
      .zadd(this.keys.recent, now, key)
      .zremrangebyscore(this.keys.recent, 0, now - RECENT_MS)
      .exec();
  }

  /** Inputs finished per second over the last minutes (0 when none finished lately). */
  async inputsPerSecond(): Promise<number> {
    const now = Date.now();
    const recent = await this.redis.zrangebyscore(this.keys.recent, now - RECENT_MS, now, 'WITHSCORES');
    const n = recent.length / 2;
    if (n < 2) return 0;
    // over the span from the first recent finish to now, so a stalled run's rate decays to 0
    return n / Math.max(1, (now - Number(recent[1])) / 1000);
  }

  async getResult(key: string): Promise<QueueRecord | undefined> {
    const s = await this.redis.hget(this.keys.results, key);
    return s ? (JSON.parse(s) as QueueRecord) : undefined;
  }

  async counts(): Promise<{ inputs: number; finished: number; ok: number; failed: number }> {
    const [inputs, finished, stats] = await Promise.all([
      this.redis.llen(this.keys.inputs),
      this.redis.hlen(this.keys.results),
      this.redis.hgetall(this.keys.stats),
    ]);
    return { inputs, finished, ok: Number(stats.ok ?? 0), failed: Number(stats.failed ?? 0) };
  }

  /**
   * Every finished input's record, in the order the inputs were added, `chunk` at a time (a million
   * results never sit in memory). `pending` counts inputs without a record yet.
   */
  async *records(chunk = 500, progress?: { pending: number }): AsyncGenerator<QueueRecord> {
    for (let start = 0; ; start += chunk) {
      const keys = await this.redis.lrange(this.keys.inputs, start, start + chunk - 1);
      if (!keys.length) return;
      const values = await this.redis.hmget(this.keys.results, ...keys);
      for (const v of values) {
        if (v) yield JSON.parse(v) as QueueRecord;
        else if (progress) progress.pending++;
      }
      if (keys.length < chunk) return;
    }
  }
}
