/**
 * How far each event batch has got inside one worker thread, in memory the thread and the
 * main thread share. The worker writes a counter per batch after each event; when the thread
 * dies, the pool reads it to know exactly which event was running: the events before it are
 * done, that one is blamed for the crash, the rest never ran. A postMessage per event would
 * tell the same, at a cost on the hot path; an `Atomics.store` costs next to nothing.
 *
 * The main thread writes one thing back: a cut (a stop's grace period ended), after which the
 * worker starts no further event of the batch. It reads the cell between events, so a cut
 * reaches a thread whose loop a handler keeps busy.
 *
 * Layout: slot `i` is the triple (key, events finished, cut) at `[3i + 1, 3i + 3]`; `[0]`
 * counts the batches the worker could not track because every slot was taken. The worker
 * claims a slot; only the main thread frees it, once it has the batch's answer, so a batch
 * whose answer was posted but not yet received still reads as finished, not as never started.
 */

/** Batches of one worker tracked at once; past it (thousands of listeners' batches on one thread) progress is unknown. */
const SLOTS = 1024;
/** Key, events finished, cut. */
const CELLS_PER_SLOT = 3;

/** The key of a request id in the board: never 0 (0 marks a free slot), within an Int32. */
function keyOf(requestId: number): number {
  return ((requestId - 1) % 0x7ffffffe) + 1;
}

/** The main thread's side: one per worker, its buffer handed to the thread at start. */
export class ProgressBoard {
  readonly buffer = new SharedArrayBuffer(4 * (1 + CELLS_PER_SLOT * SLOTS));
  private readonly cells = new Int32Array(this.buffer);

  /**
   * How many events of a batch finished: `undefined` when the batch never started (or the
   * worker could not track it: see {@link untracked}).
   */
  finished(requestId: number): number | undefined {
    const slot = this.find(keyOf(requestId));
    return slot === undefined ? undefined : Atomics.load(this.cells, CELLS_PER_SLOT * slot + 2);
  }

  /** Tells the worker to start no further event of a running batch (nothing if it is not tracked). */
  cutShort(requestId: number): void {
    const slot = this.find(keyOf(requestId));
    if (slot !== undefined) Atomics.store(this.cells, CELLS_PER_SLOT * slot + 3, 1);
  }

  /** Whether the worker ever ran a batch it could not track. */
  get untracked(): boolean {
    return Atomics.load(this.cells, 0) > 0;
  }

  /** The batch was answered: its slot is free again. */
  free(requestId: number): void {
    const slot = this.find(keyOf(requestId));
    if (slot !== undefined) Atomics.store(this.cells, CELLS_PER_SLOT * slot + 1, 0);
  }

  private find(key: number): number | undefined {
    // Found at the first probe unless slots collide; a full scan only for untracked batches.
    for (let n = 0, slot = key % SLOTS; n < SLOTS; n++, slot = (slot + 1) % SLOTS) {
      if (Atomics.load(this.cells, CELLS_PER_SLOT * slot + 1) === key) return slot;
    }
    return undefined;
  }
}

/** One batch's slot. */
export interface ProgressSlot {
  /** Events `0..count-1` of the batch have their final outcome; answers whether to go on (false: the batch was cut short). */
  finished(count: number): boolean;
}

/** The worker thread's side of a {@link ProgressBoard}. */
export class ProgressWriter {
  private readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  /** Claims a slot for a batch starting now; `undefined` when every slot is taken (counted). */
  begin(requestId: number): ProgressSlot | undefined {
    const key = keyOf(requestId);
    for (let n = 0, slot = key % SLOTS; n < SLOTS; n++, slot = (slot + 1) % SLOTS) {
      const at = CELLS_PER_SLOT * slot + 1;
      if (Atomics.load(this.cells, at) !== 0) continue;
      // The count and the cut first: the main thread must never see this key with another batch's.
      Atomics.store(this.cells, at + 1, 0);
      Atomics.store(this.cells, at + 2, 0);
      if (Atomics.compareExchange(this.cells, at, 0, key) !== 0) continue;
      const cells = this.cells;
      return {
        finished: (count) => {
          Atomics.store(cells, at + 1, count);
          return Atomics.load(cells, at + 2) === 0;
        },
      };
    }
    Atomics.add(this.cells, 0, 1);
    return undefined;
  }
}
