/**
 * Where an event that crashed its worker thread runs again: alone, one at a time, on a thread
 * of its own that holds no other work. Run again in the pool, a poison event (a
 * `process.exit()`, an out-of-memory, a native crash) would kill the thread under every batch
 * that thread was running, at each of its `runner.maxCrashRedeliveries` runs, and hold its
 * listener's slot through every replacement. Here its deaths cost only this thread, and the
 * pool's threads keep working.
 *
 * The thread starts when the first such event arrives, is replaced (on the next run) after it
 * dies, and ends after a while without work, so a process that never meets a poison event
 * never pays for it.
 */
import type { WorkerHandle } from './worker-handle.js';

/** A quarantine thread left idle this long ends; the next event that needs it starts another. */
export const QUARANTINE_IDLE_MS = 30_000;

export class QuarantineLane {
  private worker: WorkerHandle | undefined;
  /** Every thread this lane started that has not exited yet (one told to end may still be ending). */
  private readonly threads = new Set<WorkerHandle>();
  /** The runs in order: each starts when the one before it settled (alone means alone). */
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @param spawn starts a thread that the pool keeps out of its own dispatch. */
  constructor(
    private readonly spawn: () => WorkerHandle,
    private readonly idleMs = QUARANTINE_IDLE_MS,
  ) {}

  /** Whether `handle` is this lane's thread (the pool hands its exit here, not to its respawn). */
  owns(handle: WorkerHandle): boolean {
    return this.threads.has(handle);
  }

  /**
   * Runs `post` on the quarantine thread once every earlier run settled. Rejects when the
   * thread cannot start (the pool then runs the work on its own threads).
   */
  run<T>(post: (worker: WorkerHandle) => Promise<T>): Promise<T> {
    this.queued++;
    clearTimeout(this.idleTimer);
    const run = this.tail.then(async () => {
      if (this.closed) throw new Error('the worker pool is closing');
      if (!this.worker) {
        this.worker = this.spawn();
        this.threads.add(this.worker);
      }
      await this.worker.ready;
      return post(this.worker);
    });
    this.tail = run.catch(() => undefined).finally(() => {
      if (--this.queued === 0 && !this.closed) this.scheduleIdleEnd();
    });
    return run;
  }

  /** The lane's thread ended (it crashed, or was told to end): the next run starts a new one. */
  exited(handle: WorkerHandle): void {
    this.threads.delete(handle);
    if (this.worker === handle) this.worker = undefined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
  }

  private scheduleIdleEnd(): void {
    this.idleTimer = setTimeout(() => {
      if (this.queued > 0 || !this.worker) return;
      const worker = this.worker;
      this.worker = undefined;
      worker.post({ type: 'shutdown' });
    }, this.idleMs);
    this.idleTimer.unref();
  }
}
