/**
 * The Redis side of a consumer group: the stream commands {@link GroupConsumer} needs, for one
 * group and one consumer. Blocking reads (`XREADGROUP ... BLOCK`) get a connection of their
 * own; everything else shares the transport's command connection, acks and dead letters
 * through its {@link CommandBatcher} so concurrent calls are pipelined.
 */
import type { GroupBackend, PendingInfo, StreamEntry } from '../group-backend.js';
import { NOOP_FIELDS } from '../wire/events.js';
import type { CommandBatcher } from './command-batcher.js';
import { closeConnection, type RedisConnection } from './connection.js';

export interface RedisGroupBackendOptions {
  group: string;
  consumer: string;
  /** The transport's shared, non-blocking connection. */
  commands: RedisConnection;
  /** Batches commands on {@link commands}. */
  batcher: CommandBatcher;
  /** This consumer's own connection, used only for XREADGROUP BLOCK. */
  blocking: RedisConnection;
  /** Approximate MAXLEN of dead-letter writes; null for none. */
  maxStreamLength: number | null;
}

/** {@link GroupBackend} over ioredis for one consumer group and one consumer name. */
export class RedisGroupBackend implements GroupBackend {
  private readonly options: RedisGroupBackendOptions;
  /** The blocking connection's `CLIENT ID`, so `wake` can `CLIENT UNBLOCK` it; unknown after a reconnect. */
  private blockingClientId: number | undefined;
  private reading = false;
  private reconnectListener: (() => void) | undefined;
  private everReady = false;

  constructor(options: RedisGroupBackendOptions) {
    this.options = options;
    const { blocking } = options;
    blocking.on('close', () => {
      this.blockingClientId = undefined;
    });
    blocking.on('ready', () => {
      if (this.everReady) this.reconnectListener?.();
      this.everReady = true;
    });
    if (blocking.status === 'ready') this.everReady = true;
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
    const { blocking, group, consumer } = this.options;
    this.blockingClientId ??= Number(await blocking.client('ID'));
    this.reading = true;
    try {
      const reply = (await blocking.xreadgroup(
        'GROUP', group, consumer,
        'COUNT', count,
        'BLOCK', blockMs,
        'STREAMS', ...streams, ...streams.map(() => '>'),
      )) as Array<[string, Array<[string, string[]]>]> | null;
      return (reply ?? []).map(([stream, rows]) => ({
        stream,
        entries: rows.map(([streamId, fields]) => ({ streamId, fields })),
      }));
    } finally {
      this.reading = false;
    }
  }

  wake(): void {
    const id = this.blockingClientId;
    if (!this.reading || id === undefined) return;
    // Ends the block as a timeout would; the read loop then looks at its own pending entries.
    this.options.commands.client('UNBLOCK', id).catch(() => undefined);
  }

  ack(stream: string, ids: string[]): Promise<void> {
    return this.options.batcher.call('xack', [stream, this.options.group, ...ids]).then(() => undefined);
  }

  append(stream: string, fields: string[]): Promise<void> {
    const max = this.options.maxStreamLength;
    const trim = max === null ? [] : ['MAXLEN', '~', max];
    return this.options.batcher.call('xadd', [stream, ...trim, '*', ...fields]).then(() => undefined);
  }

  isMissingGroup(error: unknown): boolean {
    return error instanceof Error && error.message.startsWith('NOGROUP');
  }

  onReconnect(listener: () => void): void {
    this.reconnectListener = listener;
  }

  interrupt(): void {
    // Not QUIT: it would queue behind the block until BLOCK times out.
    void closeConnection(this.options.blocking, true);
  }

  flush(): Promise<void> {
    return this.options.batcher.drain();
  }

  async close(): Promise<void> {
    await closeConnection(this.options.blocking, true);
  }
}
