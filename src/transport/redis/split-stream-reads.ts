/**
 * New entries of a consumer group read from streams on a Redis Cluster, where one
 * `XREADGROUP ... STREAMS a b` fails (CROSSSLOT) unless the streams share a slot, and where a
 * blocked read cannot be ended with `CLIENT UNBLOCK` (the cluster client's `CLIENT ID` answers
 * from whichever node it picks). Entries are taken without blocking, one `XREADGROUP` per
 * stream; when none has any, the wait is a plain `XREAD BLOCK` per stream (each on a client of
 * its own) for anything after the stream's last entry, raced with {@link wake}. A plain XREAD
 * delivers nothing to the group, so a wait that loses the race (or is abandoned by a wake)
 * leaves no entry claimed in memory; the read after it takes what arrived.
 *
 * Each stream's last id is looked at in the same socket write as, and just before, its
 * `XREADGROUP`: an entry added after that look is newer than the id the XREAD waits after, so
 * it ends the wait at once, whenever it came.
 */
import type { StreamEntry } from '../group-backend.js';
import type { RedisConnection } from './connection.js';
import { closeConnection, onReconnected } from './connection.js';
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
  /** Set while a read is out: ends its wait early. */
  private wakeUp: (() => void) | undefined;
  private reading = false;
  private woken = false;
  private closed = false;

  constructor(
    private readonly commands: RedisConnection,
    private readonly group: string,
    private readonly consumer: string,
    /** A new blocking client for one stream. */
    private readonly blockingClient: (stream: string) => RedisConnection,
    private readonly logger: Logger,
    /** Called when one of those clients reconnects. */
    private readonly onReconnect: () => void,
  ) {}

  async read(streams: string[], count: number, blockMs: number): Promise<Batches> {
    this.reading = true;
    this.woken = false;
    try {
      // Sent in this order on each node's socket: the look at the last id comes first.
      const looked = Promise.all(streams.map((stream) => this.commands.xrevrange(stream, '+', '-', 'COUNT', 1)));
      // Awaited together: a failed read must not leave the look's rejection unhandled.
      const [now, lastIds] = await Promise.all([this.takeNewWithin(streams, count), looked]);
      if (now.length > 0) return now;
      if (!this.woken) {
        const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
        await Promise.race([woken, ...streams.map((stream, i) => this.wait(stream, lastIds[i]?.[0]?.[0] ?? '0-0', blockMs))]);
      }
      return await this.takeNewWithin(streams, count);
    } finally {
      this.reading = false;
      this.wakeUp = undefined;
    }
  }

  /** Ends the wait of the read that is out, as a block's timeout would (its XREADs stay out, to be reused). */
  wake(): void {
    if (!this.reading) return;
    this.woken = true;
    this.wakeUp?.();
  }

  /** Closes the waiting clients (their XREADs fail; nothing was delivered to them). */
  close(): Promise<unknown> {
    this.closed = true;
    return Promise.all([...this.waiters.values()].map((waiter) => closeConnection(waiter.connection, true)));
  }

  /** {@link takeNew} under a read deadline: not blocking, but held by a paused or wedged node as a blocking read would be. */
  private takeNewWithin(streams: string[], count: number): Promise<Batches> {
    const waitingOn = { waitingOn: `XREADGROUP ${this.group} ${streams.join(' ')}`, blockMs: 0 };
    return withReadDeadline(this.takeNew(streams, count), this.commands, waitingOn, this.logger);
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
      // A read that outlived its consumer's close (a slow node held it) must not open a client that nothing closes.
      if (this.closed) return Promise.resolve();
      waiter = { connection: this.blockingClient(stream) };
      onReconnected(waiter.connection, this.onReconnect);
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
