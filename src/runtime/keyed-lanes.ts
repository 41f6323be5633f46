/**
 * The queue of a listener with `orderBy`: events of one key run in order, one batch at a time,
 * while events of other keys run beside them. The listener loop owns one and does the I/O; this
 * module only decides which events may run next.
 *
 * A key is held while a batch with one of its events runs (or while one of its events runs
 * again alone, after it crashed a thread). Events of a held key wait here, and a batch takes
 * every event of its keys in the order they were added, so two events of one key never
 * overlap and never swap. Keys are not tied to a lane for good: a key nothing holds goes to the
 * next free lane, which spreads a few busy keys over every worker better than hashing would.
 */

/** An item with the key it is ordered by. */
export interface Keyed<T> {
  readonly key: string;
  readonly item: T;
}

export class KeyedLanes<T> {
  private queue: Keyed<T>[] = [];
  /** Keys some running batch or lone event holds, with how many of them do. */
  private readonly holds = new Map<string, number>();
  /** Items in running batches or running alone. */
  private running = 0;

  /** @param capacity the most items held at once (queued or running): the back-pressure bound. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Items queued or running: every one of them is pending in the consumer group. */
  get held(): number {
    return this.queue.length + this.running;
  }

  /** How many more items may be read without passing the bound. */
  get room(): number {
    return Math.max(0, this.capacity - this.held);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues items in the order they were read. */
  add(items: Iterable<Keyed<T>>): void {
    for (const item of items) this.queue.push(item);
  }

  /**
   * Takes up to one batch per free lane, splitting what is queued evenly between them (a burst
   * goes to several workers at once), each within `batchSize`; fewer when the queued items'
   * keys are held. Every key in a returned batch is held until {@link finish}.
   */
  take(freeLanes: number, batchSize: number): Keyed<T>[][] {
    const batches: Keyed<T>[][] = [];
    for (let lane = 0; lane < freeLanes && this.queue.length > 0; lane++) {
      const batch = this.takeOne(Math.min(batchSize, Math.ceil(this.queue.length / (freeLanes - lane))));
      if (batch.length === 0) break;
      batches.push(batch);
    }
    return batches;
  }

  /**
   * A batch ended. `unrun` (items of it that did not run and must, such as those after an event
   * that crashed its thread) go back to the head of the queue: everything queued of their keys
   * was added after them.
   */
  finish(batch: readonly Keyed<T>[], unrun: readonly Keyed<T>[] = []): void {
    this.running -= batch.length;
    this.queue.unshift(...unrun);
    for (const key of new Set(batch.map((entry) => entry.key))) this.unhold(key);
  }

  /** One item runs outside any batch (again, alone): its key waits for it too. */
  holdAlone(key: string): void {
    this.running++;
    this.hold(key);
  }

  /** The item running alone settled. */
  releaseAlone(key: string): void {
    this.running--;
    this.unhold(key);
  }

  /** Empties the queue (the listener stops); running batches still {@link finish}. */
  drain(): T[] {
    const items = this.queue.map((entry) => entry.item);
    this.queue = [];
    return items;
  }

  private takeOne(size: number): Keyed<T>[] {
    const batch: Keyed<T>[] = [];
    const mine = new Set<string>();
    const rest: Keyed<T>[] = [];
    for (const entry of this.queue) {
      // Once an item of a key is skipped, every later one of that key is too: holds do not
      // change during the scan, and a full batch takes nothing more.
      if (batch.length < size && (mine.has(entry.key) || !this.holds.has(entry.key))) {
        batch.push(entry);
        mine.add(entry.key);
      } else {
        rest.push(entry);
      }
    }
    this.queue = rest;
    this.running += batch.length;
    for (const key of mine) this.hold(key);
    return batch;
  }

  private hold(key: string): void {
    this.holds.set(key, (this.holds.get(key) ?? 0) + 1);
  }

  private unhold(key: string): void {
    const count = (this.holds.get(key) ?? 0) - 1;
    if (count > 0) this.holds.set(key, count);
    else this.holds.delete(key);
  }
}

/**
 * The key an event is ordered by: the value of its parameter `param` in the raw kwargs (a
 * string as it is, anything else as its JSON text). Two values with one text (`"7"` and `7`)
 * share a key, which only orders them together. An event without the parameter (or with
 * `null`) is ordered with nothing: its key is its own stream entry.
 */
export function orderKey(kwargs: Record<string, unknown>, param: string, stream: string, streamId: string): string {
  const value = typeof kwargs === 'object' && kwargs !== null && Object.hasOwn(kwargs, param) ? kwargs[param] : undefined;
  // No JSON text starts with a NUL; a string that does could only share a key with one entry (ordered together, no harm).
  if (value === undefined || value === null) return `\u0000${stream}\u0000${streamId}`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The batches a listener runs at once when it sets none: 1 (strict stream order) without
 * `orderBy`; with it, two per worker thread (two without threads), so every worker has a
 * second batch to start while the first one's acknowledgement travels or its handler awaits.
 */
export function defaultConcurrency(orderBy: string | undefined, workerCount: number): number {
  return orderBy === undefined ? 1 : 2 * Math.max(1, workerCount);
}
