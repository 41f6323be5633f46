/**
 * The one backoff of the package: how long to wait after consecutive failures (a Redis
 * reconnect, a consuming loop whose read failed, a listener's `retry` policy), doubling from a
 * base up to a cap.
 */
import { sleep } from './timeouts.js';

/** The first retry's wait, unless a caller says otherwise. */
export const BACKOFF_BASE_MS = 100;
/** The longest wait between retries, unless a caller says otherwise. */
export const BACKOFF_CAP_MS = 5000;

/**
 * The wait before the retry that follows `failures` earlier failed retries (0 for the first
 * retry): `baseMs`, then twice as long each time, never more than `capMs`.
 */
export function backoffDelayMs(failures: number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  // The exponent is bounded so a long outage never computes Infinity.
  return Math.min(baseMs * 2 ** Math.min(Math.max(0, failures), 30), capMs);
}

/**
 * The pause between failed attempts of a loop: {@link backoffDelayMs} over its consecutive
 * failures, reset by a success, and ended by {@link stop} so shutdown never waits out a pause.
 */
export class Backoff {
  private failures = 0;
  private readonly stopped = new AbortController();

  constructor(
    private readonly baseMs = BACKOFF_BASE_MS,
    private readonly capMs = BACKOFF_CAP_MS,
  ) {}

  /** The last attempt succeeded: the next failure waits the shortest time again. */
  reset(): void {
    this.failures = 0;
  }

  /** Waits before retrying; each consecutive failure waits twice as long, up to the cap. */
  wait(): Promise<void> {
    return sleep(backoffDelayMs(this.failures++, this.baseMs, this.capMs), this.stopped.signal);
  }

  /** Ends the wait in progress, and makes every later one return at once (the loop is closing). */
  stop(): void {
    this.stopped.abort();
  }
}
