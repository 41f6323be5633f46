/**
 * Runs scheduled tasks once per process: each task is handed to the executor when due, and a
 * run that is still going when the next is due is skipped (with a log line), never overlapped.
 */
import type { Logger } from 'pino';
import { parseCronExpression } from './cron.js';
import type { Executor } from './executor.js';
import type { TaskDescriptor } from './protocol.js';

export class TaskScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
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
      if (task.immediate) this.run(task.name);
      this.timers.set(task.name, setInterval(() => this.run(task.name), everyMs));
    } else if (task.cron) {
      const schedule = parseCronExpression(task.cron);
      const arm = () => {
        const delay = Math.max(0, schedule.next(new Date()).getTime() - Date.now());
        // setTimeout caps at ~24.8 days; re-arming from a shorter wait keeps far schedules right.
        this.timers.set(
          task.name,
          setTimeout(() => {
            if (delay <= 2 ** 31 - 1) this.run(task.name);
            if (!this.stopped) arm();
          }, Math.min(delay, 2 ** 31 - 1)),
        );
      };
      arm();
    }
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
