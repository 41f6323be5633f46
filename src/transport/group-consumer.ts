/**
 * The consumer-group algorithm shared by the Redis and the memory event transports, written
 * once so both behave the same. A transport supplies a {@link GroupBackend}: the handful of
 * stream commands (pending, claim, read new, ack, append) for one group and one consumer.
 *
 * Order of work in `next`: this consumer's own pending entries (a restarted process finishes
 * what it had taken), then entries other consumers left idle past the acknowledgement timeout,
 * then new entries. Entries this object handed out and has not yet acked or released (its
 * in-flight set) are never claimed again by it, and a keep-alive resets their idle time so
 * other processes do not take them while a slow handler runs (Python Lightbus does neither and
 * runs such entries twice).
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import type { DeliveredEvent, EventConsumer, EventConsumerSpec } from './types.js';
import type { GroupBackend, PendingInfo, StreamEntry } from './group-backend.js';
import { classifyEntry, encodeDeadLetter, encodeEvent, sinceToStreamId, type StreamLayout } from './wire/events.js';
import type { KeyLayout } from './wire/key-layout.js';
import { backoffDelayMs } from '../util/backoff.js';
import { settleWithin, sleep } from '../util/timeouts.js';
import { EntriesByStream } from './entries-by-stream.js';
import { REPLAY_CHECK_MS } from './replay-stream.js';

export interface GroupConsumerOptions {
  backend: GroupBackend;
  group: string;
  consumer: string;
  /** The streams to read, without duplicates. */
  streams: string[];
  /** Whether this consumer listens for an event; others are acked and skipped. */
  wants: (api: string, event: string) => boolean;
  /** Where new groups start (already a stream id, `$` or `0`). */
  since: string;
  acknowledgementTimeoutMs: number;
  /** How events map to streams: an entry read from a stream it does not belong on is malformed. */
  layout: StreamLayout;
  /** The key names the streams follow (`redis.keys`). */
  keys: KeyLayout;
  deadLetterStream: string;
  logger: Logger;
  /** Called once the consumer is closed (the transport forgets it). */
  onClosed?: () => void;
  /**
   * The group's own replay stream (`replay-stream.ts`): read too once it exists, which is
   * checked every {@link REPLAY_CHECK_MS}. Needs {@link GroupBackend.streamExists}.
   */
  replayStream?: string;
}

const PENDING_PAGE = 100;
/** Pages of the pending list one `next` iteration reads at most, so a huge list cannot stall it. */
const MAX_PENDING_PAGES = 20;
const MAX_BLOCK_MS = 2000;
const MIN_INTERVAL_MS = 20;
/** How long `close` waits for acknowledgements to reach an unreachable Redis. */
const CLOSE_FLUSH_TIMEOUT_MS = 5000;
/** How long `close` waits for the read loop to notice it (one round trip when Redis is up). */
const READ_STOP_WAIT_MS = 1000;
const TOUCH_CHUNK = 500;

/**
 * The options of a consumer for an {@link EventConsumerSpec}, the same for every transport:
 * the streams to read for the layout, which events are wanted, where new groups start.
 *
 * @throws TypeError when the spec lists no events or `since` is not a valid start.
 */
export function groupConsumerOptions(
  spec: EventConsumerSpec,
  events: ResolvedConfig['events'],
  keys: KeyLayout,
  logger: Logger,
  makeBackend: () => GroupBackend,
  onClosed: () => void,
): GroupConsumerOptions {
  if (spec.events.length === 0) throw new TypeError(`consumer group ${spec.group} listens for no events`);
  const since = sinceToStreamId(spec.since ?? '$');
  // Checked before the backend exists: a refused spec must not leave a connection open.
  const backend = makeBackend();
  const wanted = new Set(spec.events.map(({ api, event }) => `${api}\u0000${event}`));
  return {
    backend,
    group: spec.group,
    consumer: spec.consumer,
    streams: [...new Set(spec.events.map(({ api, event }) => keys.stream(api, event, events.streamUse)))],
    wants: (api, event) => wanted.has(`${api}\u0000${event}`),
    since,
    acknowledgementTimeoutMs: events.acknowledgementTimeoutMs,
    layout: events.streamUse,
    keys,
    deadLetterStream: events.deadLetterStream,
    logger,
    onClosed,
  };
}

/** An {@link EventConsumer} over any {@link GroupBackend}. */
export class GroupConsumer implements EventConsumer {
  readonly ready: Promise<void>;

  private readonly backend: GroupBackend;
  private readonly options: GroupConsumerOptions;
  /** The streams read: the options' ones, and the replay stream once it exists. */
  private readonly streams: string[];
  private nextReplayCheckAt = 0;
  private readonly log: Logger;
  /** Handed out by `next`, not yet acked, dead-lettered or released: their fields. */
  private readonly inFlight = new EntriesByStream<string[]>();
  /** Being acknowledged right now: not to be handed out again while the XACK travels. */
  private readonly settling = new EntriesByStream<true>();
  /** Skip-acks and dead letters of entries `next` never returned; awaited by `close`. */
  private readonly background = new Set<Promise<void>>();
  private readonly stopSleeping = new AbortController();
  private readonly keepAliveTimer: NodeJS.Timeout;
  private readonly reclaimIntervalMs: number;
  private readonly blockMs: number;
  private groupsReady = false;
  /** Where groups start when (re)created; `0` after a group vanished, so nothing written since is lost. */
  private createFrom: string;
  private ownPendingStale = true;
  private nextReclaimAt = 0;
  private readChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Ends the `next` calls still waiting with `[]` on close, even one stuck behind an unreachable Redis. */
  private readonly endWaitingNext = new Set<() => void>();
  /** The stream an event belongs on, for the check that an entry was read from its own stream. */
  private readonly streamOf: (api: string, event: string) => string;

  constructor(options: GroupConsumerOptions) {
    this.options = options;
    this.streamOf = (api, event) => options.keys.stream(api, event, options.layout);
    this.streams = [...options.streams];
    this.backend = options.backend;
    this.createFrom = options.since;
    this.log = options.logger.child({ group: options.group, consumer: options.consumer });
    this.reclaimIntervalMs = Math.max(MIN_INTERVAL_MS, Math.floor(options.acknowledgementTimeoutMs / 4));
    this.blockMs = Math.min(MAX_BLOCK_MS, this.reclaimIntervalMs);
    const keepAliveMs = Math.max(MIN_INTERVAL_MS, Math.floor(options.acknowledgementTimeoutMs / 3));
    this.keepAliveTimer = setInterval(() => void this.keepAlive(), keepAliveMs).unref();
    this.backend.onReconnect(() => {
      this.ownPendingStale = true;
    });
    this.ready = this.createGroups();
    // `next` retries the creation itself; a caller that never awaits `ready` must not crash the process.
    this.ready.catch((error: unknown) => {
      if (!this.closed) this.log.warn({ err: errorText(error) }, 'could not create consumer groups yet');
    });
  }

  get held(): number {
    return this.inFlight.size;
  }

  next(max: number): Promise<DeliveredEvent[]> {
    if (!Number.isInteger(max) || max < 1) return Promise.reject(new RangeError(`next(max): max must be a positive integer, got ${max}`));
    // One read at a time: the own-pending pass and the in-flight set assume it.
    const result = this.readChain.then(() => this.readUntilSomething(max));
    this.readChain = result.catch(() => undefined);
    // Not Promise.race with one long-lived "closed" promise: that would pile up a reaction per call.
    return new Promise<DeliveredEvent[]>((resolve, reject) => {
      const endEmpty = () => resolve([]);
      this.endWaitingNext.add(endEmpty);
      result.then(resolve, reject).finally(() => this.endWaitingNext.delete(endEmpty));
    });
  }

  ack(events: DeliveredEvent[]): Promise<void> {
    return this.acknowledge(events, false);
  }

  ackBeforeNextRead(events: DeliveredEvent[]): Promise<void> {
    return this.acknowledge(events, true);
  }

  private async acknowledge(events: DeliveredEvent[], beforeNextRead: boolean): Promise<void> {
    await Promise.all(
      groupByStream(events).map(async ([stream, ids]) => {
        for (const id of ids) {
          this.inFlight.delete(stream, id);
          this.settling.set(stream, id, true);
        }
        const queued = beforeNextRead ? this.backend.ackBeforeNextRead?.(stream, ids) : undefined;
        const confirmed = (queued ?? this.backend.ack(stream, ids)).then(
          () => this.settled(stream, ids),
          (error: unknown) => {
            this.settled(stream, ids);
            if (this.backend.isMissingGroup(error)) {
              this.log.info({ stream, ids: ids.length }, 'acknowledged entries whose group no longer exists (Redis lost its data?)');
              return;
            }
            // Still pending under this consumer: the next own-pending pass hands them out again.
            this.ownPendingStale = true;
            if (!queued) throw error;
            this.log.warn({ stream, ids: ids.length, err: errorText(error) }, 'could not acknowledge handled events; they stay pending and run again');
          },
        );
        // Queued ahead of the next read: nothing to wait for here, `close` waits for the reply.
        if (queued) this.inBackground(confirmed);
        else await confirmed;
      }),
    );
  }

  private settled(stream: string, ids: string[]): void {
    for (const id of ids) this.settling.delete(stream, id);
  }

  async deadLetter(event: DeliveredEvent, reason: string): Promise<void> {
    const fields = this.inFlight.get(event.stream, event.streamId) ?? encodeEvent(event.message);
    this.inFlight.delete(event.stream, event.streamId);
    this.logDeadLetter(event.stream, event.streamId, reason, event.message.id);
    await this.moveToDeadLetter(event.stream, event.streamId, fields, reason);
  }

  /**
   * One warn line per dead letter, malformed or failed: stream, ids, group and reason (the
   * group and consumer come from the child logger). Never a stack: a flood of bad entries
   * must not flood the log.
   */
  private logDeadLetter(stream: string, streamId: string, reason: string, eventId?: string): void {
    this.log.warn({ stream, streamId, ...(eventId ? { eventId } : {}), reason }, 'event entry moved to the dead-letter stream');
  }

  /**
   * Reads this consumer's own pending entries again before new ones. For a reconnect of the
   * connection its pending queries and acks travel on: a failover can lose acks the old master
   * confirmed, leaving handled entries pending here on the new one (they run again, rather than
   * wait out the acknowledgement timeout). The read that is out ends within its block time.
   */
  recheckOwnPending(): void {
    this.ownPendingStale = true;
  }

  release(events: DeliveredEvent[]): void {
    for (const event of events) this.inFlight.delete(event.stream, event.streamId);
    if (events.length === 0) return;
    this.ownPendingStale = true;
    this.backend.wake();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    clearInterval(this.keepAliveTimer);
    this.stopSleeping.abort();
    this.backend.interrupt();
    for (const endEmpty of this.endWaitingNext) endEmpty();
    // The read loop notices `closed` at its next step; a command waiting for Redis to come back may hold it.
    await settleWithin(this.readChain, READ_STOP_WAIT_MS);
    const flushed = Promise.allSettled([...this.background]).then(() => this.backend.flush());
    if (!(await settleWithin(flushed, CLOSE_FLUSH_TIMEOUT_MS))) this.log.warn('closing without confirmation that every acknowledgement reached Redis');
    await this.backend.close();
    this.options.onClosed?.();
  }

  private async createGroups(): Promise<void> {
    const since = this.createFrom;
    for (const stream of this.streams) await this.backend.createGroup(stream, since);
    this.groupsReady = true;
  }

  /** Loops until something can be returned or the consumer is closed; every error is logged and backed off. */
  private async readUntilSomething(max: number): Promise<DeliveredEvent[]> {
    // `ready` is the first creation attempt; retrying it here concurrently would only write twice.
    await this.ready.catch(() => undefined);
    let consecutiveErrors = 0;
    while (!this.closed) {
      try {
        if (!this.groupsReady) await this.createGroups();
        const events = await this.readOnce(max);
        consecutiveErrors = 0;
        if (events.length > 0 || this.closed) return this.closed ? this.releaseAll(events) : events;
      } catch (error) {
        if (this.closed) break;
        consecutiveErrors++;
        this.ownPendingStale = true;
        if (this.backend.isMissingGroup(error)) {
          this.groupsReady = false;
          this.createFrom = '0';
          this.log.warn({ err: errorText(error), streams: this.streams }, 'consumer group is gone; recreating it from the start of the stream');
          if (consecutiveErrors === 1) continue;
        } else {
          this.log.warn({ err: errorText(error) }, 'reading events failed; retrying');
        }
        await sleep(backoffDelayMs(consecutiveErrors - 1), this.stopSleeping.signal);
      }
    }
    return [];
  }

  private async readOnce(max: number): Promise<DeliveredEvent[]> {
    const out: DeliveredEvent[] = [];
    if (this.ownPendingStale) {
      // Cleared first: a release during the pass sets it again, so released entries are not missed.
      this.ownPendingStale = false;
      const finished = await this.collectPending(out, max, { consumer: this.options.consumer });
      if (!finished) this.ownPendingStale = true;
      if (out.length > 0) return out;
    }
    if (Date.now() >= this.nextReclaimAt) {
      const finished = await this.collectPending(out, max, { minIdleMs: this.options.acknowledgementTimeoutMs });
      this.nextReclaimAt = finished ? Date.now() + this.reclaimIntervalMs : 0;
      if (out.length > 0) return out;
    }
    if (Date.now() >= this.nextReplayCheckAt) await this.lookForReplayStream();
    // Something was released while we looked elsewhere: go round again rather than block on it.
    if (this.ownPendingStale || this.closed) return out;
    // `max` is what the caller has room for (a listener: its batch size times its free slots).
    const batches = await this.backend.readNew(this.streams, max, this.blockMs);
    for (const { stream, entries } of batches) {
      for (const entry of entries) this.accept(stream, entry, 1, out);
    }
    return out;
  }

  /**
   * Starts reading the group's replay stream once `inspect dead-letters replay` has made it
   * (with the group on it). Once read, it stays in the read set for the life of the consumer.
   */
  private async lookForReplayStream(): Promise<void> {
    const { replayStream } = this.options;
    if (replayStream === undefined || !this.backend.streamExists || this.streams.includes(replayStream)) {
      this.nextReplayCheckAt = Infinity;
      return;
    }
    this.nextReplayCheckAt = Date.now() + REPLAY_CHECK_MS;
    if (!(await this.backend.streamExists(replayStream))) return;
    this.streams.push(replayStream);
    // Entries this consumer name took there before a restart are its own pending ones.
    this.ownPendingStale = true;
    this.log.info({ stream: replayStream }, 'reading the replays for this group');
  }

  /**
   * Claims pending entries (this consumer's own, or any idle past the timeout) that are not
   * in flight here, until `max` are collected. Returns whether every list was read to its end.
   */
  private async collectPending(out: DeliveredEvent[], max: number, filter: { consumer?: string; minIdleMs?: number }): Promise<boolean> {
    let finished = true;
    for (const stream of this.streams) {
      let after: string | undefined;
      let reachedEnd = false;
      for (let page = 0; page < MAX_PENDING_PAGES && out.length < max && !this.closed; page++) {
        const rows = await this.backend.pending(stream, { after, count: PENDING_PAGE, ...filter });
        const candidates = rows.filter((row) => !this.isBusy(stream, row.streamId));
        const taken = candidates.slice(0, max - out.length);
        if (taken.length > 0) await this.claimInto(out, stream, taken, filter.minIdleMs);
        if (taken.length < candidates.length) break;
        if (rows.length < PENDING_PAGE) {
          reachedEnd = true;
          break;
        }
        after = rows[rows.length - 1]!.streamId;
      }
      if (!reachedEnd) finished = false;
      if (out.length >= max) break;
    }
    return finished;
  }

  private async claimInto(out: DeliveredEvent[], stream: string, rows: PendingInfo[], minIdleMs: number | undefined): Promise<void> {
    // For our own entries the guard is the idle time just seen: an entry another consumer
    // reclaimed meanwhile is fresh again and stays with it.
    const guard = minIdleMs ?? Math.min(...rows.map((row) => row.idleMs));
    const deliveries = new Map(rows.map((row) => [row.streamId, row.deliveries + 1]));
    const claimed = await this.backend.claim(stream, rows.map((row) => row.streamId), guard);
    if (minIdleMs !== undefined && claimed.length > 0) {
      this.log.info({ stream, count: claimed.length }, 'reclaimed entries idle past the acknowledgement timeout');
    }
    for (const entry of claimed) this.accept(stream, entry, deliveries.get(entry.streamId) ?? 1, out);
  }

  /** Hands an entry out, or settles it here: noop and unwanted entries are acked, malformed ones dead-lettered. */
  private accept(stream: string, entry: StreamEntry, deliveries: number, out: DeliveredEvent[]): void {
    // The replay stream carries events of every stream of the group: only its own streams are checked.
    const readFrom = stream === this.options.replayStream ? undefined : { stream, streamOf: this.streamOf };
    const classified = classifyEntry(entry.fields, this.options.wants, readFrom);
    switch (classified.kind) {
      case 'event':
        this.inFlight.set(stream, entry.streamId, entry.fields);
        out.push({ message: classified.message, stream, streamId: entry.streamId, deliveries });
        return;
      case 'noop':
      case 'unwanted':
        this.inBackground(this.ackQuietly(stream, entry.streamId));
        return;
      case 'malformed':
        this.logDeadLetter(stream, entry.streamId, classified.reason);
        this.inBackground(
          this.moveToDeadLetter(stream, entry.streamId, entry.fields, classified.reason).catch((error: unknown) => {
            this.ownPendingStale = true;
            this.log.warn({ stream, streamId: entry.streamId, err: errorText(error) }, 'could not dead-letter a malformed entry; it stays pending');
          }),
        );
    }
  }

  private async moveToDeadLetter(stream: string, streamId: string, fields: string[], reason: string): Promise<void> {
    this.settling.set(stream, streamId, true);
    try {
      const letter = encodeDeadLetter({ stream, streamId, group: this.options.group, reason, fields, time: new Date() });
      await this.backend.append(this.options.deadLetterStream, letter);
      await this.backend.ack(stream, [streamId]);
    } finally {
      this.settling.delete(stream, streamId);
    }
  }

  private async ackQuietly(stream: string, streamId: string): Promise<void> {
    this.settling.set(stream, streamId, true);
    try {
      await this.backend.ack(stream, [streamId]);
    } catch (error) {
      if (!this.backend.isMissingGroup(error)) {
        this.ownPendingStale = true;
        this.log.warn({ stream, streamId, err: errorText(error) }, 'could not acknowledge a skipped entry; it stays pending');
      }
    } finally {
      this.settling.delete(stream, streamId);
    }
  }

  private inBackground(task: Promise<void>): void {
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** Resets the idle time of in-flight entries so no other process reclaims them while their handlers run. */
  private async keepAlive(): Promise<void> {
    if (this.closed || this.inFlight.size === 0) return;
    for (const [stream, ids] of this.inFlight.idsByStream()) {
      for (let i = 0; i < ids.length; i += TOUCH_CHUNK) {
        try {
          await this.backend.touch(stream, ids.slice(i, i + TOUCH_CHUNK));
        } catch (error) {
          if (!this.closed) this.log.debug({ stream, err: errorText(error) }, 'keep-alive of in-flight entries failed');
        }
      }
    }
  }

  private isBusy(stream: string, streamId: string): boolean {
    return this.inFlight.has(stream, streamId) || this.settling.has(stream, streamId);
  }

  /** Entries read in the very moment of closing are not handed out: they stay pending for the next start. */
  private releaseAll(events: DeliveredEvent[]): DeliveredEvent[] {
    for (const event of events) this.inFlight.delete(event.stream, event.streamId);
    return [];
  }

}

function groupByStream(events: DeliveredEvent[]): Array<[string, string[]]> {
  const byStream = new Map<string, string[]>();
  for (const event of events) {
    const ids = byStream.get(event.stream) ?? [];
    ids.push(event.streamId);
    byStream.set(event.stream, ids);
  }
  return [...byStream];
}

/** A short text of any thrown value, for logs. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
