/**
 * New entries of a consumer group read from several streams on a Redis Cluster, where one
 * `XREADGROUP ... STREAMS a b` fails (CROSSSLOT) unless the streams share a slot. Entries are
 * taken without blocking, one `XREADGROUP` per stream; when none has any, the wait is a plain
 * `XREAD BLOCK` per stream (each on a client of its own) for anything after the stream's last
 * entry. A plain XREAD delivers nothing to the group, so a wait that loses the race leaves no
 * entry claimed in memory; the read after it takes what arrived. An entry added between the
 * look at a stream's last id and its XREAD is seen when the block ends (at most `blockMs`).
 */
import type { StreamEntry } from '../group-backend.js';
import type { RedisConnection } from './connection.js';
import { closeConnection } from './connection.js';
import { withReadDeadline } from './read-deadline.js';
import type { Logger } from 'pino';

type Batches = Array<{ stream: string; entries: StreamEntry[] }>;

interface Waiter {
  connection: RedisConnection;
  /** The XREAD out on this stream, if any. */
  out?: Promise<unknown>;
}

export class SplitStreamReads {
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    private readonly commands: RedisConnection,
    private readonly group: string,
    private readonly consumer: string,
    /** A new blocking client for one stream. */
    private readonly blockingClient: (stream: string) => RedisConnection,
    private readonly logger: Logger,
  ) {}

  async read(streams: string[], count: number, blockMs: number): Promise<Batches> {
    // Not blocking, but held by a paused or wedged node as a blocking read would be.
    const waitingOn = { waitingOn: `XREADGROUP ${this.group} ${streams.join(' ')}`, blockMs: 0 };
    const now = await withReadDeadline(this.takeNew(streams, count), this.commands, waitingOn, this.logger);
    if (now.length > 0) return now;
    const lastIds = await Promise.all(streams.map((stream) => this.commands.xrevrange(stream, '+', '-', 'COUNT', 1)));
    const waits = streams.map((stream, i) => this.wait(stream, lastIds[i]?.[0]?.[0] ?? '0-0', blockMs));
    await Promise.race(waits);
    return this.takeNew(streams, count);
  }

  /** Closes the waiting clients (their XREADs fail; nothing was delivered to them). */
  close(): Promise<unknown> {
    return Promise.all([...this.waiters.values()].map((waiter) => closeConnection(waiter.connection, true)));
  }

  /** Non-blocking `XREADGROUP ... >` on each stream; `count` is shared out so the total stays within it. */
  private async takeNew(streams: string[], count: number): Promise<Batches> {
    const share = Math.max(1, Math.floor(count / streams.length));
    const replies = await Promise.all(
      streams.map(
        (stream) =>
          this.commands.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', share, 'STREAMS', stream, '>') as Promise<Array<[string, Array<[string, string[]]>]> | null>,
      ),
    );
    const batches: Batches = [];
    for (const reply of replies) {
      for (const [stream, rows] of reply ?? []) {
        if (rows.length > 0) batches.push({ stream, entries: rows.map(([streamId, fields]) => ({ streamId, fields })) });
      }
    }
    return batches;
  }

  private wait(stream: string, after: string, blockMs: number): Promise<unknown> {
    let waiter = this.waiters.get(stream);
    if (!waiter) {
      waiter = { connection: this.blockingClient(stream) };
      this.waiters.set(stream, waiter);
    }
    let out = waiter.out;
    if (!out) {
      const current = waiter;
      const reply = current.connection.xread('BLOCK', blockMs, 'STREAMS', stream, after);
      out = current.out = withReadDeadline(reply, current.connection, { waitingOn: `XREAD ${stream}`, blockMs }, this.logger).finally(() => (current.out = undefined));
    }
    return out.catch(() => undefined);
  }
}
