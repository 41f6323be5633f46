/**
 * One listener in the invoker: reads batches of events from its consumer group while it has a
 * free slot, hands each batch to the executor, then acknowledges what succeeded and applies the
 * listener's `onError` policy to what failed. Only the invoker acknowledges, so a handler can
 * never stall an acknowledgement.
 *
 * With `orderBy`, what it reads goes through {@link KeyedLanes} instead of straight to the
 * slots: one batch per slot still, but events of a key another batch holds wait for it.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { deserializeError } from '../errors.js';
import type { DeliveredEvent, EventConsumer, EventMessage } from '../transport/types.js';
import type { Executor } from './executor.js';
import { RUN_AGAIN_ALONE } from './crashed-batch.js';
import { LISTENER_NOT_HERE } from './handler-runner.js';
import type { ListenerDescriptor, Outcome } from './protocol.js';
import { streamIdTime, type ListenerLevels, type RuntimeObserver } from './observer.js';
import { Slots } from './slots.js';
import { KeyedLanes, defaultConcurrency, orderKey, type Keyed } from './keyed-lanes.js';
import { Backoff } from '../util/backoff.js';
import { settleWithin } from '../util/timeouts.js';

export interface ListenerLoopOptions {
  descriptor: ListenerDescriptor;
  consumer: EventConsumer;
  executor: Executor;
  batchSize: number;
  logger: Logger;
  nextExecutionId: () => number;
  /** The `shutdown` policy fired: the process should stop gracefully and exit 1. */
  onShutdownRequested: (reason: Error) => void;
  observer?: RuntimeObserver | undefined;
}

/** The first pause after a failed read of events (the consumer retries Redis itself: this is a safety net). */
const READ_RETRY_MS = 500;
/** How long a stop waits, after the grace period, for the batches it cut short to settle what they finished. */
const SETTLE_AFTER_GRACE_MS = 1000;

/** A controller whose signal every batch in flight listens to (they can be many: no listener-count warning). */
function abortControllerForMany(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export class ListenerLoop {
  private readonly slots: Slots;
  /** Batches at once: the descriptor's, or the default for its `orderBy` and the executor's threads. */
  private readonly concurrency: number;
  /** With `orderBy`: the events read and not yet settled, by key. */
  private readonly lanes: KeyedLanes<DeliveredEvent> | undefined;
  /** The read loop waits here when the lanes have no room; woken when a batch or lone event settles. */
  private wakeReader: (() => void) | undefined;
  private stopping = false;
  /** Aborted when a stop's grace period ends: the batches still running settle what they finished. */
  private readonly graceOver = abortControllerForMany();
  private loop: Promise<void> | undefined;
  private readonly readRetry = new Backoff(READ_RETRY_MS);
  private readonly inFlight = new Set<Promise<void>>();
  /** Events that crashed their worker, each running again in a batch of its own, outside the slots. */
  private readonly runningAlone = new Set<Promise<void>>();
  private readonly logger: Logger;
  /** How old the oldest event of the latest read was (kept only with an observer). */
  private lastReadLagMs = 0;
  private loopDone = false;

  constructor(private readonly options: ListenerLoopOptions) {
    const { descriptor, executor, batchSize } = options;
    this.concurrency = descriptor.concurrency ?? defaultConcurrency(descriptor.orderBy, executor.threadCount);
    this.slots = new Slots(this.concurrency);
    if (descriptor.orderBy !== undefined) this.lanes = new KeyedLanes(batchSize * this.concurrency);
    this.logger = options.logger.child({ listener: options.descriptor.name });
  }

  get name(): string {
    return this.options.descriptor.name;
  }

  get ready(): Promise<void> {
    return this.options.consumer.ready;
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.readLoop();
    void this.loop.catch(() => undefined).finally(() => (this.loopDone = true));
  }

  /** Whether it stopped reading: on purpose (`stop`, its `onError`), or not (health says so). */
  get state(): 'reading' | 'stopped' | 'ended' {
    if (!this.loopDone) return 'reading';
    return this.stopping ? 'stopped' : 'ended';
  }

  /** Its slots, held events and lag, for metrics: read from what the loop keeps anyway. */
  levels(): ListenerLevels {
    const held = this.options.consumer.held ?? 0;
    return {
      name: this.name,
      slots: { used: this.concurrency - this.slots.free, limit: this.concurrency },
      held,
      lagMs: held > 0 ? this.lastReadLagMs : 0,
    };
  }

  /**
   * Stops reading; waits up to `graceMs` for batches in flight and acknowledges them. A batch
   * still running then is cut short: its events that finished are settled (acknowledged, or
   * dead-lettered by the policy) and the rest stay pending, so a restart runs again only what
   * had not finished. Then closes the consumer.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.slots.wakeAll();
    this.wake();
    this.readRetry.stop();
    // Queued events of an ordered listener never started: pending again, before the consumer closes.
    if (this.lanes && this.lanes.queued > 0) this.options.consumer.release(this.lanes.drain());
    const closing = this.options.consumer.close();
    await this.loop;
    if (!(await settleWithin(Promise.all([...this.inFlight]), graceMs))) {
      this.graceOver.abort();
      await settleWithin(Promise.all([...this.inFlight]), SETTLE_AFTER_GRACE_MS);
    }
    await closing;
  }

  private async readLoop(): Promise<void> {
    const { consumer, batchSize } = this.options;
    try {
      await consumer.ready;
    } catch (error) {
      this.logger.error({ err: error }, 'could not set up the consumer group');
    }
    while (!this.stopping) {
      const max = this.lanes ? this.keyedReadSize(this.lanes) : batchSize * this.slots.free;
      if (max === 0) {
        await (this.lanes ? new Promise<void>((resolve) => (this.wakeReader = resolve)) : this.slots.whenFree());
        continue;
      }
      let events: DeliveredEvent[];
      try {
        // One read for every free slot: what it returns is split between them below, so
        // in flight stays within batchSize x concurrency.
        events = await consumer.next(max);
        this.readRetry.reset();
      } catch (error) {
        this.logger.error({ err: error }, 'reading events failed; retrying');
        await this.readRetry.wait();
        continue;
      }
      // A consumer answers with nothing only once it is closed.
      if (events.length === 0) break;
      if (this.stopping) {
        consumer.release(events);
        break;
      }
      if (this.options.observer) this.observeRead(this.options.observer, events);
      if (this.lanes) this.dispatchKeyed(this.lanes, events);
      else this.dispatchSplit(events);
    }
  }

  private observeRead(observer: RuntimeObserver, events: DeliveredEvent[]): void {
    // Each stream's entries come in id order, so the oldest is the first of some stream.
    let oldest = Infinity;
    for (const event of events) {
      const time = streamIdTime(event.streamId);
      if (time < oldest) oldest = time;
    }
    this.lastReadLagMs = oldest === Infinity ? 0 : Math.max(0, Date.now() - oldest);
    observer.eventsRead(this.name, events.length, this.lastReadLagMs);
  }

  /** Runs a batch on the executor; with an observer, its outcomes and duration are told. */
  private execute(events: DeliveredEvent[], executionId: number): Promise<Outcome<null>[]> {
    const { executor, descriptor, observer } = this.options;
    const running = executor.executeEvents(descriptor.name, events.map(toBatchEvent), executionId, this.graceOver.signal);
    if (!observer) return running;
    const startedAt = performance.now();
    return running.then((outcomes) => {
      observer.eventsHandled(descriptor.name, events, outcomes, (performance.now() - startedAt) / 1000);
      return outcomes;
    });
  }

  /**
   * What an ordered listener reads: as much as its bound leaves room for, while a slot is free
   * or a whole batch fits (read ahead, the events wait here rather than in Redis, and a batch
   * that ends finds the next one ready).
   */
  private keyedReadSize(lanes: KeyedLanes<DeliveredEvent>): number {
    const room = lanes.room;
    return this.slots.free > 0 || room >= this.options.batchSize ? room : 0;
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private dispatchKeyed(lanes: KeyedLanes<DeliveredEvent>, events: DeliveredEvent[]): void {
    const orderBy = this.options.descriptor.orderBy!;
    lanes.add(events.map((event) => ({ key: orderKey(event.message.kwargs, orderBy, event.stream, event.streamId), item: event })));
    this.startKeyed(lanes);
  }

  /** Starts a batch on every free slot that has events whose key no other batch holds. */
  private startKeyed(lanes: KeyedLanes<DeliveredEvent>): void {
    if (this.stopping) return;
    for (const batch of lanes.take(this.slots.free, this.options.batchSize)) {
      this.dispatch(
        batch.map((entry) => entry.item),
        batch,
      );
    }
  }

  /** A batch of an ordered listener ended: what it did not run goes back first, then the next batches start. */
  private keyedDone(lanes: KeyedLanes<DeliveredEvent>, batch: Keyed<DeliveredEvent>[], again: DeliveredEvent[]): void {
    const unrun = new Set(again);
    lanes.finish(
      batch,
      batch.filter((entry) => unrun.has(entry.item)),
    );
    this.wake();
    if (this.stopping && lanes.queued > 0) this.options.consumer.release(lanes.drain());
    this.startKeyed(lanes);
  }

  /**
   * Spreads a read evenly, in stream order, over the free slots (only this loop takes them,
   * so there are at least as many as when it read): a burst goes to several workers at once
   * when the listener's concurrency allows, and each part stays within the batch size.
   */
  private dispatchSplit(events: DeliveredEvent[]): void {
    const parts = Math.max(1, Math.min(this.slots.free, events.length));
    if (parts === 1) return this.dispatch(events);
    const size = Math.ceil(events.length / parts);
    for (let at = 0; at < events.length; at += size) this.dispatch(events.slice(at, at + size));
  }

  private dispatch(events: DeliveredEvent[], keyed?: Keyed<DeliveredEvent>[]): void {
    const executionId = this.options.nextExecutionId();
    this.slots.take(executionId);
    let again: DeliveredEvent[] = [];
    const done = this.execute(events, executionId)
      // The slot stays taken until the batch is acknowledged: reading the next batch earlier
      // would let Redis hold more than batchSize x concurrency pending entries for this listener.
      .then((outcomes) => this.settle(events, outcomes))
      .then((unrun) => void (again = unrun))
      .catch((error: unknown) => {
        // Released, even with orderBy: redelivered at the next read, possibly after later events of their keys.
        this.logger.error({ err: error }, 'event batch could not be settled; its events stay pending');
        this.options.consumer.release(events);
      })
      .finally(() => {
        this.slots.release(executionId);
        this.inFlight.delete(done);
        if (keyed && this.lanes) this.keyedDone(this.lanes, keyed, again);
      });
    this.inFlight.add(done);
  }

  /**
   * Acknowledges, dead-letters or leaves pending each event by its outcome. Resolves with the
   * events of an ordered listener's batch that must run again in order (those it did not run,
   * when nothing stops the listener); without `orderBy` such events are released instead.
   */
  private async settle(events: DeliveredEvent[], outcomes: Outcome<null>[], holdsSlot = true): Promise<DeliveredEvent[]> {
    const { consumer, descriptor } = this.options;
    if (outcomes.some((o) => !o.ok && o.error.name === LISTENER_NOT_HERE)) {
      await this.handlerGone(events, outcomes);
      return [];
    }
    const toAck: DeliveredEvent[] = [];
    const deadLetters: Promise<void>[] = [];
    const alone: Promise<void>[] = [];
    let failure: { event: DeliveredEvent; error: Error } | undefined;
    outcomes.forEach((outcome, i) => {
      const event = events[i]!;
      if (outcome.ok) return toAck.push(event);
      if (outcome.error.name === RUN_AGAIN_ALONE) {
        this.options.observer?.crashRedelivered(descriptor.name, event);
        return void alone.push(this.runAlone(event));
      }
      const error = deserializeError(outcome.error);
      const policy = descriptor.onError;
      if (policy === 'acknowledge-and-log') toAck.push(event);
      else if (typeof policy === 'object') deadLetters.push(this.deadLetter(event, deadLetterReason(policy.retry.maxAttempts, error)));
      else failure ??= { event, error };
    });
    // Events the executor did not run (the batch stopped at a failure) or that failed under
    // `shutdown`/`stop-listener` stay pending, to be redelivered.
    const unsettled = events.slice(outcomes.length);
    if (failure) unsettled.unshift(failure.event);
    // Released, an ordered listener's events would come back at some later read, and events of
    // their keys read meanwhile would run first: they run again from this process's queue.
    const again = this.lanes && !failure && !this.stopping ? unsettled : [];
    if (again.length === 0 && unsettled.length > 0) consumer.release(unsettled);
    if (failure) this.fail(failure.event, failure.error);
    // Queued ahead of the next read is enough to free the slot: Redis applies it before that
    // read, so pending entries stay within batchSize x concurrency.
    const acked = toAck.length === 0 ? undefined : consumer.ackBeforeNextRead ? consumer.ackBeforeNextRead(toAck) : consumer.ack(toAck);
    // Back-pressure: past as many events running alone as the slots hold, the slot waits for
    // them too, so what this listener holds unacknowledged stays within twice its bound.
    // (An ordered listener counts its lone events in its bound already.)
    const waitForAlone = holdsSlot && !this.lanes && this.runningAlone.size > this.options.batchSize * this.concurrency;
    await Promise.all([acked, ...deadLetters, ...(waitForAlone ? alone : [])]);
    return again;
  }

  /**
   * Runs an event that crashed its worker again, in a batch of its own that takes no slot. With
   * `orderBy` its key stays held meanwhile: later events of that key wait until it settled.
   */
  private runAlone(event: DeliveredEvent): Promise<void> {
    if (this.stopping) {
      this.options.consumer.release([event]);
      return Promise.resolve();
    }
    const { lanes } = this;
    const key = lanes ? orderKey(event.message.kwargs, this.options.descriptor.orderBy!, event.stream, event.streamId) : '';
    lanes?.holdAlone(key);
    // Started inside the chain: whatever goes wrong, the key held above is released below.
    const run = Promise.resolve()
      .then(() => this.execute([event], this.options.nextExecutionId()))
      .then((outcomes) => this.settle([event], outcomes, false))
      .then((unrun) => {
        if (unrun.length > 0) this.options.consumer.release(unrun);
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'event could not be settled; it stays pending');
        this.options.consumer.release([event]);
      })
      .finally(() => {
        this.runningAlone.delete(run);
        this.inFlight.delete(run);
        if (lanes) {
          lanes.releaseAlone(key);
          this.wake();
          this.startKeyed(lanes);
        }
      });
    this.runningAlone.add(run);
    this.inFlight.add(run);
    return run;
  }

  /**
   * No thread of this process holds the handler any more (it was registered after start in a
   * thread that died): the events it did not run stay pending, for another process to take
   * after the acknowledgement timeout, and this listener stops rather than spin on them.
   */
  private async handlerGone(events: DeliveredEvent[], outcomes: Outcome<null>[]): Promise<void> {
    const ran = outcomes.findIndex((o) => !o.ok && o.error.name === LISTENER_NOT_HERE);
    const settled = ran > 0 ? this.settle(events.slice(0, ran), outcomes.slice(0, ran)) : undefined;
    this.options.consumer.release(events.slice(Math.max(0, ran)));
    if (!this.stopping) {
      this.logger.error({ reason: outcomes[ran]!.ok ? undefined : outcomes[ran]!.error.message }, 'listener stopped: no worker holds its handler; its events stay unacknowledged');
      void this.stop(0);
    }
    await settled;
  }

  private deadLetter(event: DeliveredEvent, reason: string): Promise<void> {
    const { consumer, observer, descriptor } = this.options;
    if (!observer) return consumer.deadLetter(event, reason);
    return consumer.deadLetter(event, reason).then(() => observer.deadLettered(descriptor.name, event));
  }

  private fail(event: DeliveredEvent, error: Error): void {
    const where = `${event.message.api}.${event.message.event}`;
    if (this.options.descriptor.onError === 'stop-listener') {
      this.logger.error({ err: error, event: where, streamId: event.streamId }, 'listener stopped after a failed event (onError: stop-listener); the event stays unacknowledged');
      void this.stop(0);
      return;
    }
    this.logger.fatal({ err: error, event: where, streamId: event.streamId }, 'event handler failed; shutting down (onError: shutdown); the event stays unacknowledged');
    this.stopping = true;
    this.options.onShutdownRequested(error);
  }
}

function toBatchEvent({ message, streamId }: DeliveredEvent): EventMessage & { streamId: string } {
  const event: EventMessage & { streamId: string } = { id: message.id, api: message.api, event: message.event, version: message.version, kwargs: message.kwargs, streamId };
  if (message.trace !== undefined) event.trace = message.trace;
  return event;
}

/** The dead letter's reason; invalid parameters are never retried (handler-runner.ts), so theirs claims no attempts. */
function deadLetterReason(maxAttempts: number, error: Error): string {
  const text = `${error.name}: ${error.message}`.slice(0, 500);
  // A crash is not an attempt of the in-place retry: its message says how often it crashed.
  if (error.name === 'WorkerCrashedError') return text;
  if (error.name === 'ValidationError') return `parameters failed validation: ${text}`;
  return `${maxAttempts} attempts failed; last error: ${text}`;
}
