/**
 * What the runtime tells an observer (the Prometheus metrics of `lightbus run --metrics-port`,
 * src/metrics/): every RPC call and execution, event fire and batch, dead letter, crash
 * redelivery and worker replacement passes through the invoker's thread, so nothing here
 * crosses threads. The core holds an `observer | undefined` and checks it before taking a
 * time or building an argument: with no observer, a hot path pays one property read.
 *
 * Levels (slots in use, events held, lag) are not pushed: the observer pulls them with
 * {@link RuntimeLevels} when it is scraped, from counters the invoker keeps anyway.
 */
import type { DeliveredEvent } from '../transport/types.js';
import type { Outcome } from './protocol.js';

export interface RuntimeObserver {
  /** A call this process made (from any thread) ended: its outcome, and how long it took in seconds. */
  rpcCalled(api: string, procedure: string, outcome: Outcome, seconds: number): void;
  /** A call this process served ended; `abandoned` when its caller withdrew it or its deadline passed first. */
  rpcExecuted(api: string, procedure: string, outcome: Outcome, seconds: number, abandoned: boolean): void;
  /** A fire was written (`error` undefined) or failed. */
  eventFired(api: string, event: string, error: Error | undefined): void;
  /** A listener read events: `lagMs` is how old the oldest of them was (from its stream id). */
  eventsRead(listener: string, count: number, lagMs: number): void;
  /** A batch of a listener ended: one outcome per event it ran (fewer when it stopped early), in `seconds`. */
  eventsHandled(listener: string, events: readonly DeliveredEvent[], outcomes: readonly Outcome<null>[], seconds: number): void;
  /** A listener's failed event went to the dead-letter stream (its `onError` is `retry`). */
  deadLettered(listener: string, event: DeliveredEvent): void;
  /** An event whose handler killed its worker runs again, alone. */
  crashRedelivered(listener: string, event: DeliveredEvent): void;
  /** A worker thread died and is being replaced. */
  workerReplaced(): void;
}

/** The levels of a running invoker, read when metrics are scraped. */
export interface RuntimeLevels {
  rpcSlots: { used: number; limit: number };
  workers: number;
  listeners: ListenerLevels[];
}

export interface ListenerLevels {
  name: string;
  slots: { used: number; limit: number };
  /** Events read by this process and not yet acknowledged, dead-lettered or released. */
  held: number;
  /** How old the oldest event of the latest read was, in ms; 0 while the listener holds none. */
  lagMs: number;
}

/** The time of a stream id (`1795610117080-0`), in ms since the epoch; NaN for anything else. */
export function streamIdTime(streamId: string): number {
  const dash = streamId.indexOf('-');
  return Number(dash === -1 ? streamId : streamId.slice(0, dash));
}
