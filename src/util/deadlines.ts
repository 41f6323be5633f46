/**
 * The one timeout mechanism for waits that are many and short-lived: the RPC calls and the
 * fires in flight in the invoker. One interval timer checks every deadline, rather than a
 * timer each: in a burst thousands are in flight, and a timer per wait (its object, its
 * `setTimeout` and `clearTimeout`, all kept alive until the reply) costs more than the check.
 * A deadline is met to the nearest {@link SWEEP_MS}, never early.
 */

/** How often the deadlines are checked while any is waiting. */
export const SWEEP_MS = 50;

/** A wait with a deadline: a `Date.now()` time. */
export interface Expiring {
  readonly expiresAt: number;
}

export class Deadlines<T extends Expiring> {
  private readonly waiting = new Set<T>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  /** @param expire settles a wait whose deadline passed; it is no longer waiting by then. */
  constructor(private readonly expire: (item: T) => void) {}

  add(item: T): void {
    this.waiting.add(item);
    if (!this.stopped) this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
  }

  /**
   * Ends a wait that settled. False when it was not waiting any more: its deadline already
   * expired it, and whoever asks must not settle it a second time.
   */
  delete(item: T): boolean {
    return this.waiting.delete(item);
  }

  /** Stops checking: what still waits never expires here (its owner settles it on close). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const item of this.waiting) {
      if (item.expiresAt > now) continue;
      this.waiting.delete(item);
      this.expire(item);
    }
    if (this.waiting.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
