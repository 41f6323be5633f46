/**
 * Messages between the invoker and a worker thread travel in arrays: what one side posts in one
 * microtask run (the calls the invoker dispatched from one read, the answers of sync handlers
 * that became ready together) is ONE postMessage. Serialising and waking the other thread was
 * the invoker's largest cost with many RPCs in flight: see docs/benchmark.md, figures 1 and 2.
 */
export class MessageBatcher<T> {
  private queue: T[] = [];

  /**
   * @param post sends one batch.
   * @param schedule runs the flush later, after the promise continuations that post a
   *   batch's messages (a microtask).
   */
  constructor(
    private readonly post: (batch: T[]) => void,
    private readonly schedule: (flush: () => void) => void,
  ) {}

  /** How many messages wait for the flush. */
  get pending(): number {
    return this.queue.length;
  }

  send(message: T): void {
    if (this.queue.push(message) === 1) this.schedule(() => this.flush());
  }

  /** Posts `message` now, after what is queued (order is kept): for what must not wait, such as log lines. */
  sendNow(message: T): void {
    this.queue.push(message);
    this.flush();
  }

  flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.post(batch);
  }
}
