/**
 * Per-tick coalescing of writes by key: every value queued for one key in one turn of the
 * event loop goes out as ONE command (one RPUSH of many calls to a queue, one LPUSH of many
 * results to a return path), and all keys of the turn share one pipeline. With 64 calls in
 * flight this replaces two commands per message (push + marker/expiry) by a couple per key,
 * which is most of what Redis and ioredis spend on RPC.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { TickBatcher } from './tick-batcher.js';

/** Appends the commands that write `values` to `key`, and returns how many it appended. */
export type WriteGroup<T> = (pipeline: ChainableCommander, key: string, values: T[]) => number;

interface Group<T> {
  values: T[];
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/** Most values in one command: a larger group is split so one command never grows without bound. */
const MAX_GROUP = 1000;

export class KeyedBatcher<T> extends TickBatcher {
  private groups = new Map<string, Group<T>>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly write: WriteGroup<T>,
  ) {
    super();
  }

  /** Queues a value for `key`; resolves once the command carrying it succeeded. */
  add(key: string, value: T): Promise<void> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) this.groups.set(key, (group = { values: [], waiters: [] }));
      group.values.push(value);
      group.waiters.push({ resolve, reject });
      this.queued(group.values.length >= MAX_GROUP);
    });
  }

  /** Sends what is queued, all keys in one pipeline. */
  protected sendQueued(): Promise<void> | undefined {
    if (this.groups.size === 0) return undefined;
    const groups = [...this.groups];
    this.groups = new Map();
    const pipeline = this.connection.pipeline();
    const spans = groups.map(([key, group]) => this.write(pipeline, key, group.values));
    return pipeline.exec().then(
      (replies) => {
        let at = 0;
        groups.forEach(([, group], i) => {
          const span = replies?.slice(at, (at += spans[i]!)) ?? [];
          const failed = replies ? span.find(([error]) => error)?.[0] : new Error('Redis pipeline was aborted');
          for (const waiter of group.waiters) failed ? waiter.reject(failed) : waiter.resolve();
        });
      },
      (error: unknown) => groups.forEach(([, group]) => group.waiters.forEach((waiter) => waiter.reject(error))),
    );
  }
}
