/**
 * The Redis side of a consumer group: the stream commands {@link GroupConsumer} needs, for one
 * group and one consumer. Blocking reads (`XREADGROUP ... BLOCK`) get a connection of their
 * own; everything else shares the transport's command connection, acks and dead letters
 * through its {@link CommandBatcher}, so concurrent calls share one socket write. The one exception: an
 * ack that must be applied before the next read travels on the read's connection, in the
 * same socket write as that read (one write and one round trip fewer per batch).
 */
import type { GroupBackend, PendingInfo, StreamEntry } from '../group-backend.js';
import { NOOP_FIELDS } from '../wire/events.js';
import type { CommandBatcher } from './command-batcher.js';
import { closeConnection, inOneWrite, onReconnected, type RedisConnection } from './connection.js';
import { settleWithin } from '../../util/timeouts.js';
import { SplitStreamReads } from './split-stream-reads.js';
import { withReadDeadline } from './read-deadline.js';
import type { Logger } from 'pino';

/** How long `interrupt` lets acks already on the blocking connection get their replies before it drops the connection. */
const ACK_REPLY_WAIT_MS = 1000;

interface QueuedAck {
  ids: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface RedisGroupBackendOptions {
  group: string;
  consumer: string;
  /** The transport's shared, non-blocking connection. */
  commands: RedisConnection;
  /** Batches commands on {@link commands}. */
  batcher: CommandBatcher;
  /**
   * One server: this consumer's own connection, for XREADGROUP BLOCK (and the acks that must
   * reach Redis before the next read). None on a cluster, where reads are split.
   */
  blocking?: RedisConnection;
  /** Where a stalled read is reported. */
  logger: Logger;
  /** Approximate MAXLEN of dead-letter writes; null for none. */
  maxStreamLength: number | null;
  /**
   * On a Redis Cluster: a new blocking client for one stream. Every read is then split per
   * stream ({@link SplitStreamReads}), even of streams that share a slot (one API's, with the
   * hash-tagged keys): only a split read can be woken there. Acks never ride on a read's connection.
   */
  clusterBlockingClient?: (stream: string) => RedisConnection;
}

/** {@link GroupBackend} over ioredis for one consumer group and one consumer name. */
export class RedisGroupBackend implements GroupBackend {
  private readonly options: RedisGroupBackendOptions;
  /** The blocking connection's `CLIENT ID`, so `wake` can `CLIENT UNBLOCK` it; unknown after a reconnect. */
  private blockingClientId: number | undefined;
  private reading = false;
  private reconnectListener: (() => void) | undefined;
  private interrupted = false;
  /** Acks waiting for the next read (or the next turn of the loop), by stream. */
  private queuedAcks = new Map<string, QueuedAck[]>();
  private ackSendScheduled = false;
  /** Acks sent on the blocking connection and not answered yet. */
  private readonly acksInFlight = new Set<Promise<unknown>>();
  /** On a cluster, reads of several streams. */
  private split: SplitStreamReads | undefined;

  constructor(options: RedisGroupBackendOptions) {
    this.options = options;
    const { blocking } = options;
    if (!blocking === !options.clusterBlockingClient) throw new TypeError('a group backend needs a blocking connection (one server) or a blocking client per stream (cluster), not both');
    if (!blocking) return;
    blocking.on('close', () => {
      this.blockingClientId = undefined;
    });
    onReconnected(blocking, () => this.reconnectListener?.());
  }

  async createGroup(stream: string, since: string): Promise<void> {
    const { commands, group } = this.options;
    // As Python Lightbus does: a noop entry creates the stream, so no peer ever needs MKSTREAM.
    if ((await commands.exists(stream)) === 0) await commands.xadd(stream, '*', ...NOOP_FIELDS);
    try {
      await commands.xgroup('CREATE', stream, group, since);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  async pending(stream: string, query: { after?: string; count: number; minIdleMs?: number; consumer?: string }): Promise<PendingInfo[]> {
    const args: Array<string | number> = [stream, this.options.group];
    if (query.minIdleMs !== undefined) args.push('IDLE', query.minIdleMs);
    args.push(query.after === undefined ? '-' : `(${query.after}`, '+', query.count);
    if (query.consumer !== undefined) args.push(query.consumer);
    const rows = (await this.options.commands.call('XPENDING', ...args)) as unknown[] | null;
    return (rows ?? []).map((row) => {
      const [streamId, consumer, idleMs, deliveries] = row as [string, string, number, number];
      return { streamId, consumer, idleMs: Number(idleMs), deliveries: Number(deliveries) };
    });
  }

  async claim(stream: string, ids: string[], minIdleMs: number): Promise<StreamEntry[]> {
    const { commands, group, consumer } = this.options;
    const rows = (await commands.call('XCLAIM', stream, group, consumer, minIdleMs, ...ids)) as unknown[] | null;
    const entries: StreamEntry[] = [];
    const deleted: string[] = [];
    for (const row of rows ?? []) {
      const [streamId, fields] = (row ?? []) as [string | undefined, string[] | null | undefined];
      if (streamId !== undefined && fields) entries.push({ streamId, fields });
      else if (streamId !== undefined) deleted.push(streamId);
    }
    // Redis before 7.0 keeps deleted entries in the pending list and returns them empty.
    if (deleted.length > 0) await this.ack(stream, deleted);
    return entries;
  }

  async touch(stream: string, ids: string[]): Promise<void> {
    const { commands, group, consumer } = this.options;
    await commands.call('XCLAIM', stream, group, consumer, 0, ...ids, 'JUSTID');
  }

  async readNew(streams: string[], count: number, blockMs: number): Promise<Array<{ stream: string; entries: StreamEntry[] }>> {
    const { blocking, group, consumer, clusterBlockingClient } = this.options;
    if (!blocking) {
      // Even for one stream, or streams of one slot: only a split read can be woken on a
      // cluster (CLIENT ID answers from any node; see SplitStreamReads). Its clients are the
      // ones that see a reconnect, after which an XREADGROUP reply may have been lost.
      this.split ??= new SplitStreamReads(this.options.commands, group, consumer, clusterBlockingClient!, this.options.logger, () => this.reconnectListener?.());
      return this.split.read(streams, count, blockMs);
    }
    this.blockingClientId ??= Number(await blocking.client('ID'));
    this.reading = true;
    try {
      const read = inOneWrite(blocking, () => {
        this.sendQueuedAcks();
        return blocking.xreadgroup(
          'GROUP', group, consumer,
          'COUNT', count,
          'BLOCK', blockMs,
          'STREAMS', ...streams, ...streams.map(() => '>'),
        );
      });
      const reply = (await withReadDeadline(read, blocking, { waitingOn: `XREADGROUP ${group} ${streams.join(' ')}`, blockMs }, this.options.logger)) as Array<[string, Array<[string, string[]]>]> | null;
      return (reply ?? []).map(([stream, rows]) => ({
        stream,
        entries: rows.map(([streamId, fields]) => ({ streamId, fields })),
      }));
    } finally {
      this.reading = false;
    }
  }

  wake(): void {
    this.split?.wake();
    const id = this.blockingClientId;
    if (!this.reading || id === undefined) return;
    // Ends the block as a timeout would; the read loop then looks at its own pending entries.
    this.options.commands.client('UNBLOCK', id).catch(() => undefined);
  }

  ack(stream: string, ids: string[]): Promise<void> {
    return this.options.batcher.call('xack', [stream, this.options.group, ...ids]).then(() => undefined);
  }

  ackBeforeNextRead(stream: string, ids: string[]): Promise<void> | undefined {
    // Behind a read that is out, an ack would wait for the block to end: the caller acks apart.
    // On a cluster the ack's stream may live on another node than the read's: always apart.
    if (this.options.blocking?.status !== 'ready' || this.reading || this.interrupted) return undefined;
    return new Promise((resolve, reject) => {
      const queued = this.queuedAcks.get(stream);
      if (queued) queued.push({ ids, resolve, reject });
      else this.queuedAcks.set(stream, [{ ids, resolve, reject }]);
      if (this.ackSendScheduled) return;
      // Normally the read this ack frees a slot for takes it in the same turn; if none comes
      // (the loop claims pending entries first, or stops), it leaves on its own, still ahead of any read.
      this.ackSendScheduled = true;
      setImmediate(() => {
        this.ackSendScheduled = false;
        this.sendQueuedAcks();
      });
    });
  }

  /** One XACK per stream for everything queued, on the blocking connection. */
  private sendQueuedAcks(): void {
    const { blocking, group } = this.options;
    if (this.queuedAcks.size === 0 || !blocking) return;
    const byStream = this.queuedAcks;
    this.queuedAcks = new Map();
    for (const [stream, acks] of byStream) {
      const ids = acks.length === 1 ? acks[0]!.ids : acks.flatMap((ack) => ack.ids);
      const sent = blocking.xack(stream, group, ...ids).then(
        () => acks.forEach((ack) => ack.resolve()),
        (error: unknown) => acks.forEach((ack) => ack.reject(error)),
      );
      this.acksInFlight.add(sent);
      void sent.finally(() => this.acksInFlight.delete(sent));
    }
  }

  append(stream: string, fields: string[]): Promise<void> {
    const max = this.options.maxStreamLength;
    const trim = max === null ? [] : ['MAXLEN', '~', max];
    return this.options.batcher.call('xadd', [stream, ...trim, '*', ...fields]).then(() => undefined);
  }

  async streamExists(stream: string): Promise<boolean> {
    return (await this.options.commands.exists(stream)) === 1;
  }

  isMissingGroup(error: unknown): boolean {
    return error instanceof Error && error.message.startsWith('NOGROUP');
  }

  onReconnect(listener: () => void): void {
    this.reconnectListener = listener;
  }

  interrupt(): void {
    this.interrupted = true;
    this.sendQueuedAcks();
    const { blocking } = this.options;
    void this.split?.close();
    if (!blocking) return;
    // Not QUIT: it would queue behind the block until BLOCK times out. Acks ahead of a read
    // are answered before it blocks, so waiting for their replies does not wait for the block.
    if (this.acksInFlight.size === 0) return void closeConnection(blocking, true);
    void settleWithin(Promise.allSettled([...this.acksInFlight]), ACK_REPLY_WAIT_MS).then(() => closeConnection(blocking, true));
  }

  async flush(): Promise<void> {
    this.sendQueuedAcks();
    await Promise.allSettled([...this.acksInFlight]);
    await this.options.batcher.drain();
  }

  async close(): Promise<void> {
    await this.split?.close();
    if (this.options.blocking) await closeConnection(this.options.blocking, true);
  }
}
