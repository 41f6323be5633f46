/**
 * Per-tick coalescing of writes by key: every value queued for one key in one turn of the
 * event loop goes out as ONE command (one RPUSH of many calls to a queue, one LPUSH of many
 * results to a return path), and all keys of the turn share one pipeline. With 64 calls in
 * flight this replaces two commands per message (push + marker/expiry) by a couple per key,
 * which is most of what Redis and ioredis spend on RPC.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisConnection } from './connection.js';

/** Appends the commands that write `values` to `key`, and returns how many it appended. */
export type WriteGroup<T> = (pipeline: ChainableCommander, key: string, values: T[]) => number;

interface Group<T> {
  values: T[];
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/** Most values in one command: a larger group is split so one command never grows without bound. */
const MAX_GROUP = 1000;

export class KeyedBatcher<T> {
  private groups = new Map<string, Group<T>>();
  private scheduled = false;
  private readonly outstanding = new Set<Promise<void>>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly write: WriteGroup<T>,
  ) {}

  /** Queues a value for `key`; resolves once the command carrying it succeeded. */
  add(key: string, value: T): Promise<void> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) this.groups.set(key, (group = { values: [], waiters: [] }));
      group.values.push(value);
      group.waiters.push({ resolve, reject });
      if (group.values.length >= MAX_GROUP) this.flush();
      else if (!this.scheduled) {
        // The next turn of the loop: what this turn's I/O produced (a batch of results, a
        // burst of calls) leaves together.
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued now, in one pipeline. */
  flush(): void {
    this.scheduled = false;
    if (this.groups.size === 0) return;
    const groups = [...this.groups];
    this.groups = new Map();
    const pipeline = this.connection.pipeline();
    const spans = groups.map(([key, group]) => this.write(pipeline, key, group.values));
    const sent = pipeline.exec().then(
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
    this.outstanding.add(sent);
    void sent.finally(() => this.outstanding.delete(sent));
  }

  /** Sends what is queued and waits until every pipeline sent so far has its replies. */
  async drain(): Promise<void> {
    this.flush();
    while (this.outstanding.size > 0) await Promise.allSettled([...this.outstanding]);
  }
}
