/**
 * Events inside one process, with the semantics of the Redis transport: streams with ids,
 * consumer groups with pending entries per consumer, `since`, acknowledgement, dead letters,
 * reclaim after the acknowledgement timeout, own pending first, per-API filtering. It runs the
 * same {@link GroupConsumer} as the Redis transport over a {@link MemoryStore}; transports
 * sharing a store act like processes sharing a Redis.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { GroupBackend, PendingInfo, StreamEntry } from '../group-backend.js';
import { GroupConsumer, groupConsumerOptions } from '../group-consumer.js';
import type { EventConsumer, EventConsumerSpec, EventMessage, EventTransport } from '../types.js';
import { encodeEvent, NOOP_FIELDS } from '../wire/events.js';
import { PYTHON_KEYS } from '../wire/key-layout.js';
import { MemoryStore, NoGroupError } from './store.js';

export interface MemoryEventTransportOptions {
  events: ResolvedConfig['events'];
  logger: Logger;
  /** The shared "Redis"; a private store when left out. */
  store?: MemoryStore;
}

/** The {@link EventTransport} inside one process, over a {@link MemoryStore} (private unless one is given). */
export class MemoryEventTransport implements EventTransport {
  /** The streams this transport reads and writes (the dead-letter stream included, for tests). */
  readonly store: MemoryStore;
  private readonly options: MemoryEventTransportOptions;
  private readonly consumers = new Set<GroupConsumer>();
  private closing: Promise<void> | undefined;

  constructor(options: MemoryEventTransportOptions) {
    this.options = options;
    this.store = options.store ?? new MemoryStore();
  }

  async send(message: EventMessage): Promise<{ streamId: string }> {
    if (this.closing) throw new BusClosedError(`cannot send ${message.api}.${message.event}: the event transport is closed`);
    const { maxStreamLength, streamUse } = this.options.events;
    // Encoded as on the wire, so values convert exactly as they would through Redis.
    const streamId = this.store.xadd(PYTHON_KEYS.stream(message.api, message.event, streamUse), encodeEvent(message), maxStreamLength);
    return { streamId };
  }

  /**
   * Starts a consumer; its `ready` resolves once every group exists.
   *
   * @throws TypeError when the spec lists no events or `since` is not a valid start.
   */
  consume(spec: EventConsumerSpec): EventConsumer {
    if (this.closing) throw new BusClosedError('cannot consume: the event transport is closed');
    const { events, logger } = this.options;
    const backend = () => new MemoryGroupBackend(this.store, spec.group, spec.consumer, events.maxStreamLength);
    const consumer: GroupConsumer = new GroupConsumer(groupConsumerOptions(spec, events, PYTHON_KEYS, logger, backend, () => this.consumers.delete(consumer)));
    this.consumers.add(consumer);
    return consumer;
  }

  close(): Promise<void> {
    this.closing ??= Promise.allSettled([...this.consumers].map((consumer) => consumer.close())).then(() => undefined);
    return this.closing;
  }
}

/** {@link GroupBackend} over a {@link MemoryStore}: synchronous commands, a wait that wakes on appends. */
class MemoryGroupBackend implements GroupBackend {
  private wakeRequested = false;
  private interrupted = false;
  private stopWaiting: (() => void) | undefined;

  constructor(
    private readonly store: MemoryStore,
    private readonly group: string,
    private readonly consumer: string,
    private readonly maxStreamLength: number | null,
  ) {}

  async createGroup(stream: string, since: string): Promise<void> {
    if (!this.store.exists(stream)) this.store.xadd(stream, NOOP_FIELDS);
    this.store.xgroupCreate(stream, this.group, since);
  }

  async pending(stream: string, query: { after?: string; count: number; minIdleMs?: number; consumer?: string }): Promise<PendingInfo[]> {
    return this.store.xpending(stream, this.group, query);
  }

  async claim(stream: string, ids: string[], minIdleMs: number): Promise<StreamEntry[]> {
    return this.store.xclaim(stream, this.group, this.consumer, minIdleMs, ids);
  }

  async touch(stream: string, ids: string[]): Promise<void> {
    this.store.xclaim(stream, this.group, this.consumer, 0, ids, true);
  }

  async readNew(streams: string[], count: number, blockMs: number): Promise<Array<{ stream: string; entries: StreamEntry[] }>> {
    const found = this.takeNew(streams, count);
    if (found.length > 0 || this.interrupted) return found;
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return [];
    }
    await this.waitForAppend(streams, blockMs);
    this.wakeRequested = false;
    return this.interrupted ? [] : this.takeNew(streams, count);
  }

  wake(): void {
    this.wakeRequested = true;
    this.stopWaiting?.();
  }

  async ack(stream: string, ids: string[]): Promise<void> {
    this.store.xack(stream, this.group, ids);
  }

  async append(stream: string, fields: string[]): Promise<void> {
    this.store.xadd(stream, fields, this.maxStreamLength);
  }

  isMissingGroup(error: unknown): boolean {
    return error instanceof NoGroupError;
  }

  onReconnect(): void {
    // A store never disconnects.
  }

  interrupt(): void {
    this.interrupted = true;
    this.stopWaiting?.();
  }

  async flush(): Promise<void> {
    // Every command already took effect.
  }

  async close(): Promise<void> {
    this.interrupt();
  }

  private takeNew(streams: string[], count: number): Array<{ stream: string; entries: StreamEntry[] }> {
    const batches: Array<{ stream: string; entries: StreamEntry[] }> = [];
    let left = count;
    for (const stream of streams) {
      if (left === 0) break;
      const entries = this.store.xreadgroupNew(stream, this.group, this.consumer, left);
      left -= entries.length;
      if (entries.length > 0) batches.push({ stream, entries });
    }
    return batches;
  }

  private waitForAppend(streams: string[], blockMs: number): Promise<void> {
    const watched = new Set(streams);
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        this.stopWaiting = undefined;
        resolve();
      };
      const timer = setTimeout(done, blockMs);
      const unsubscribe = this.store.onAppend((stream) => {
        if (watched.has(stream)) done();
      });
      this.stopWaiting = done;
    });
  }
}
