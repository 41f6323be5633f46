/**
 * Concurrency slots for one kind of work (the RPCs of a process, or one listener). The
 * invoker reads from Redis only while a slot is free, which keeps backlogs in Redis.
 *
 * An execution that is waiting on a bus call of its own can lend its slot out ({@link suspend})
 * and take it back when the call returns ({@link resume}), even if that briefly exceeds the
 * limit: taking it back must never wait, or nested calls would deadlock.
 */
export class Slots {
  private used = 0;
  private readonly held = new Map<number, { suspendedCalls: number }>();
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`slot limit must be a positive integer, got ${limit}`);
  }

  get free(): number {
    return Math.max(0, this.limit - this.used);
  }

  /** Resolves when at least one slot is free (at once if one is). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  take(executionId: number): void {
    this.held.set(executionId, { suspendedCalls: 0 });
    this.used++;
  }

  release(executionId: number): void {
    const entry = this.held.get(executionId);
    if (!entry) return;
    this.held.delete(executionId);
    if (entry.suspendedCalls === 0) this.used--;
    this.wake();
  }

  has(executionId: number): boolean {
    return this.held.has(executionId);
  }

  /** The execution started waiting on a call: its slot is free for others meanwhile. */
  suspend(executionId: number): void {
    const entry = this.held.get(executionId);
    if (!entry) return;
    if (entry.suspendedCalls++ === 0) {
      this.used--;
      this.wake();
    }
  }

  /** The call returned: the execution holds a slot again. */
  resume(executionId: number): void {
    const entry = this.held.get(executionId);
    if (!entry || entry.suspendedCalls === 0) return;
    if (--entry.suspendedCalls === 0) this.used++;
  }

  /** Wakes every waiter (used on close so loops can see they must stop). */
  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private wake(): void {
    while (this.free > 0 && this.waiters.length > 0) this.waiters.shift()!();
  }
}
