/**
 * Per-tick coalescing of writes by key: every value queued for one key in one turn of the
 * event loop goes out as ONE command (one RPUSH of many calls to a queue, one LPUSH of many
 * results to a return path), and all keys of the turn share one socket write. With 64 calls
 * in flight this replaces two commands per message (push + marker/expiry) by a couple per key,
 * which is most of what Redis and ioredis spend on RPC.
 */
import { inOneWrite, type RedisConnection } from './connection.js';
import { TickBatcher } from './tick-batcher.js';

/** Sends the commands that write `values` to `key`; resolves when all succeeded. */
export type WriteGroup<T> = (connection: RedisConnection, key: string, values: T[]) => Promise<unknown>;

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

  /**
   * Sends what is queued, all keys in one socket write. Plain commands in a corked write, not a
   * `pipeline()`, which costs more per write: see docs/benchmark.md, figures 1 and 2.
   */
  protected sendQueued(): Promise<void> | undefined {
    if (this.groups.size === 0) return undefined;
    const groups = [...this.groups.values()];
    const keys = [...this.groups.keys()];
    this.groups = new Map();
    const sent = inOneWrite(this.connection, () => groups.map((group, i) => this.write(this.connection, keys[i]!, group.values)));
    return Promise.all(
      sent.map((done, i) =>
        done.then(
          () => groups[i]!.waiters.forEach((waiter) => waiter.resolve()),
          (error: unknown) => groups[i]!.waiters.forEach((waiter) => waiter.reject(error)),
        ),
      ),
    ).then(() => undefined);
  }
}
