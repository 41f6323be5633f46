/**
 * What a worker thread posts to the invoker travels in arrays: the answers that become ready
 * in one microtask run (a batch of events, the calls of sync handlers) go as ONE postMessage,
 * which costs a serialisation and a wake-up of the main thread each. The invoker does not
 * batch its posts to a worker: a worker drains its microtasks between two messages, so an
 * answer leaves before the next handler of a batch runs, and that one may be CPU-bound.
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
