/**
 * What becomes of an event batch whose worker thread died under it. The worker's progress
 * counter (batch-progress.ts) says how far the batch got: the events before the running one
 * are done (their outcomes as the worker reported them), the running one is blamed for the
 * crash, the rest never ran. An event that keeps killing threads (a `process.exit()`, an
 * out-of-memory, a native crash) would otherwise be redelivered forever; past a limit it
 * fails with `WorkerCrashedError`, and the listener's `onError` applies to it like to any
 * failure. Its siblings are never blamed with it.
 */
import { WorkerCrashedError, serializeError } from '../errors.js';
import type { EventMessage } from '../transport/types.js';
import type { Outcome } from './protocol.js';
import type { InFlight } from './worker-handle.js';

type BatchEvent = EventMessage & { streamId: string };

const OK: Outcome<null> = Object.freeze({ ok: true, value: null });

/**
 * The outcome of an event that crashed its thread and has runs left: its listener runs it
 * again in a batch of its own, outside the listener's slots, and the pool runs such a batch on
 * its quarantine thread (quarantine.ts). Neither acknowledged nor failed.
 */
export const RUN_AGAIN_ALONE = 'LightbusRunAgainAlone';

export function runAgainAlone(reason: string): Outcome<null> {
  return { ok: false, error: { name: RUN_AGAIN_ALONE, message: `${reason}; the event runs again, alone` } };
}

function listenerKey(listener: string, key: string): string {
  return `${listener}\u0000${key}`;
}

/** At most this many events' crash counts are kept (an event taken over by another process never settles here). */
const MAX_COUNTED = 10_000;

/**
 * How often each event crashed a thread in this process, by listener, until the event
 * settles. It outlives the batch: an event run again alone comes back as a batch of its own.
 */
export class CrashCounts {
  private readonly counts = new Map<string, number>();

  get size(): number {
    return this.counts.size;
  }

  /** The counts of `events` (as judgeCrashedBatch takes them), or undefined when none crashed. */
  of(listener: string, events: BatchEvent[]): Map<string, number> | undefined {
    let found: Map<string, number> | undefined;
    for (const event of events) {
      const count = this.counts.get(listenerKey(listener, crashKey(event)));
      if (count !== undefined) (found ??= new Map()).set(crashKey(event), count);
    }
    return found;
  }

  record(listener: string, counts: Map<string, number>): void {
    for (const [key, count] of counts) {
      const at = listenerKey(listener, key);
      this.counts.delete(at);
      this.counts.set(at, count);
    }
    // Oldest first: an event taken over by another process never settles here.
    for (const key of this.counts.keys()) {
      if (this.counts.size <= MAX_COUNTED) break;
      this.counts.delete(key);
    }
  }

  /** Forgets the events that settled (any outcome but running again alone). */
  settled(listener: string, events: BatchEvent[], outcomes: Outcome<null>[]): void {
    outcomes.forEach((outcome, i) => {
      if (outcome.ok || outcome.error.name !== RUN_AGAIN_ALONE) this.counts.delete(listenerKey(listener, crashKey(events[i]!)));
    });
  }
}

export type CrashVerdict =
  /** Settle these outcomes (a prefix of the batch); what follows goes back to be redelivered. */
  | { kind: 'settle'; outcomes: Outcome<null>[]; failed?: { event: BatchEvent; crashes: number } }
  /** Settle `outcomes`, then run `redeliver` (the rest of the batch) again, keeping `crashes`. */
  | { kind: 'continue'; outcomes: Outcome<null>[]; redeliver: BatchEvent[]; crashes: Map<string, number>; blamed: BatchEvent[] };

/** The key of an event in one listener's crash counts: its stream is given by api (and event), its entry by stream id. */
export function crashKey(event: BatchEvent): string {
  return `${event.api}\u0000${event.event}\u0000${event.streamId}`;
}

/**
 * @param stopsAtFailure the listener's policy ends a batch at its first failure (`shutdown`, `stop-listener`).
 * @param maxCrashRedeliveries how often an event that crashed its thread is run again before it fails.
 * @param deadlineError the thread was terminated because this batch ran past its hard deadline:
 *   the running event fails with it at once (running it again would wedge the next thread).
 */
export function judgeCrashedBatch(
  work: InFlight,
  events: BatchEvent[],
  stopsAtFailure: boolean,
  maxCrashRedeliveries: number,
  reason: string,
  deadlineError?: Error,
): CrashVerdict {
  const crashes = new Map(work.crashes);
  const outcomes: Outcome<null>[] = [];
  const finished = Math.min(work.finished ?? 0, events.length);
  for (let i = 0; i < finished; i++) {
    const outcome = work.failures?.get(i) ?? OK;
    outcomes.push(outcome);
    // The worker ended the batch here: the rest was never meant to run.
    if (!outcome.ok && stopsAtFailure) return { kind: 'settle', outcomes };
  }
  if (finished === events.length) return { kind: 'settle', outcomes };
  if (deadlineError && (work.finished !== undefined || work.untracked)) {
    return { kind: 'settle', outcomes: [...outcomes, { ok: false, error: serializeError(deadlineError) }] };
  }
  // Never started: nothing to blame, unless the thread ran batches it could not track (then any may be guilty).
  const blamed = work.finished !== undefined ? [events[finished]!] : work.untracked ? events : [];
  for (const event of blamed) {
    const count = (crashes.get(crashKey(event)) ?? 0) + 1;
    crashes.set(crashKey(event), count);
    if (count <= maxCrashRedeliveries) continue;
    const error = new WorkerCrashedError(
      `${reason} while handling ${event.api}.${event.event} (stream id ${event.streamId}), ${count} times: the event is failed so that it stops killing workers (runner.maxCrashRedeliveries is ${maxCrashRedeliveries})`,
    );
    // Outcomes are positional: only the first event not done can fail here (with untracked
    // progress every event is counted alike, so the first one reaches the limit with the rest).
    if (event === events[finished]) return { kind: 'settle', outcomes: [...outcomes, { ok: false, error: serializeError(error) }], failed: { event, crashes: count } };
  }
  return { kind: 'continue', outcomes, redeliver: events.slice(finished), crashes, blamed };
}
