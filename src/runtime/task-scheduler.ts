/**
 * Runs scheduled tasks once per process: each task is handed to the executor when due, and a
 * run that is still going when the next is due is skipped (with a log line), never overlapped.
 * It knows when each task is next due, for the heartbeat (`lightbus inspect processes`).
 */
import type { Logger } from 'pino';
import type { TaskInfo } from '../transport/types.js';
import { parseCronExpression } from './cron.js';
import type { Executor } from './executor.js';
import type { TaskDescriptor } from './protocol.js';

/** setTimeout's longest wait (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TaskScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly scheduled = new Map<string, { descriptor: TaskDescriptor; nextRunAt: number }>();
  private stopped = false;

  constructor(
    private readonly executor: Executor,
    private readonly logger: Logger,
    private readonly nextExecutionId: () => number,
  ) {}

  add(task: TaskDescriptor): void {
    if (this.timers.has(task.name) || this.stopped) return;
    if (task.everyMs !== undefined) {
      const everyMs = task.everyMs;
      const entry = { descriptor: task, nextRunAt: Date.now() + everyMs };
      this.scheduled.set(task.name, entry);
      if (task.immediate) this.run(task.name);
      this.timers.set(
        task.name,
        setInterval(() => {
          entry.nextRunAt = Date.now() + everyMs;
          this.run(task.name);
        }, everyMs),
      );
    } else if (task.cron) {
      const schedule = parseCronExpression(task.cron);
      const entry = { descriptor: task, nextRunAt: 0 };
      this.scheduled.set(task.name, entry);
      const arm = () => {
        entry.nextRunAt = schedule.next(new Date()).getTime();
        const delay = Math.max(0, entry.nextRunAt - Date.now());
        // Re-arming from a shorter wait keeps schedules beyond the timer's limit right.
        this.timers.set(
          task.name,
          setTimeout(() => {
            if (delay <= MAX_TIMER_MS) this.run(task.name);
            if (!this.stopped) arm();
          }, Math.min(delay, MAX_TIMER_MS)),
        );
      };
      arm();
    }
  }

  /** Unschedules a task (a reload dropped or changed it); a run under way finishes. */
  remove(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.scheduled.delete(name);
  }

  /** The tasks scheduled here, with when each is next due. */
  tasks(): TaskInfo[] {
    return [...this.scheduled.values()].map(({ descriptor, nextRunAt }) => ({
      name: descriptor.name,
      ...(descriptor.everyMs !== undefined ? { everyMs: descriptor.everyMs } : {}),
      ...(descriptor.cron !== undefined ? { cron: descriptor.cron } : {}),
      ...(this.stopped ? {} : { nextRunAt: new Date(nextRunAt).toISOString() }),
      running: this.running.has(descriptor.name),
    }));
  }

  /** Stops scheduling and waits for running tasks. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private run(name: string): void {
    if (this.stopped) return;
    if (this.running.has(name)) {
      this.logger.warn({ task: name }, 'task is still running from its last schedule; this run is skipped');
      return;
    }
    const run = this.executor
      .runTask(name, this.nextExecutionId())
      .then(() => undefined)
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
  }
}
