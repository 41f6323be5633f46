/**
 * Bounded waiting for the RPC and result transports: the pause between failed attempts of a
 * consuming loop, and the most time `close` gives Redis before it gives up on a command.
 */

/**
 * The pause between failed attempts of a consuming loop: capped exponential, reset by a
 * success, and cut short when the loop is closed so shutdown never waits out a backoff.
 */
export class Backoff {
  private failures = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly baseMs = 100,
    private readonly capMs = 5000,
  ) {}

  /** The next attempt succeeded: the following failure waits the shortest time again. */
  reset(): void {
    this.failures = 0;
  }

  /** Waits before retrying; each consecutive failure waits twice as long, up to the cap. */
  wait(): Promise<void> {
    const delay = Math.min(this.baseMs * 2 ** Math.min(this.failures, 16), this.capMs);
    this.failures++;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, delay);
      this.wake = done;
    });
  }

  /** Ends a wait in progress at once (on close). */
  interrupt(): void {
    this.wake?.();
  }
}
