/**
 * Messages between the invoker and a worker thread travel in arrays: what one side posts in
 * one turn of its event loop goes as ONE postMessage. With 64 RPCs in flight, postMessage
 * (serialising, and waking the other thread) was the largest single cost of the main thread;
 * a batch of calls drained from Redis now reaches a worker as one message, and the worker's
 * answers go back the same way.
 */
export class MessageBatcher<T> {
  private queue: T[] = [];

  /**
   * @param post sends one batch.
   * @param schedule runs the flush later, after the synchronous code and the promise
   *   continuations that post a batch's messages (a microtask).
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
