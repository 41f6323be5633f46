/**
 * The kills of the "under chaos" scenarios: every `processKillEveryMs` one `lightbus run`
 * (in turn) is SIGKILLed and started again, once the last one restarted serves again; at each of `redisKillsAtMs` Redis is SIGKILLed
 * and started again after `redisDownMs` (its AOF, fsynced on every write, brings back
 * everything it acknowledged). Runs until `stop()`.
 */
import { sleep } from '../../lib/measure.js';
import { until, type ChaosRun, type ServiceProcess } from './chaos-run.js';

export interface ScheduleOptions {
  processKillEveryMs: number;
  redisKillsAtMs: number[];
  redisDownMs: number;
  /** How long the next process kill waits at most for the last one restarted to serve again. */
  restartWaitMs: number;
}

export interface ScheduleFigures {
  processKills: number;
  redisKills: number;
  /** Redis restarts that failed (it did not answer PING in time). */
  redisRestartFailures: number;
}

export class ChaosSchedule {
  private stopped = false;
  private readonly figures: ScheduleFigures = { processKills: 0, redisKills: 0, redisRestartFailures: 0 };
  private readonly done: Promise<unknown>;

  constructor(run: ChaosRun, services: ServiceProcess[], options: ScheduleOptions) {
    const started = Date.now();
    const killProcesses = async () => {
      for (let turn = 0; ; turn++) {
        await this.sleepUnlessStopped(options.processKillEveryMs);
        if (this.stopped || run.closed) return;
        const service = services[turn % services.length]!;
        await service.killAndRestart();
        this.figures.processKills++;
        // The next kill waits until this one is back: on a loaded machine a start can take
        // longer than the interval, and killing both in turn would leave nobody serving.
        await until(async () => this.stopped || (await run.untilRegistered(service.child, 1000)), options.restartWaitMs);
      }
    };
    const killRedis = async () => {
      for (const at of options.redisKillsAtMs) {
        await this.sleepUnlessStopped(at - (Date.now() - started));
        if (this.stopped || run.closed) return;
        await run.redis.kill();
        this.figures.redisKills++;
        await sleep(options.redisDownMs);
        await run.redis.start().catch(() => {
          this.figures.redisRestartFailures++;
        });
      }
    };
    this.done = Promise.all([killProcesses(), killRedis()]);
  }

  /** Ends the kills; resolves once Redis is back up and no restart is half done. */
  async stop(): Promise<ScheduleFigures> {
    this.stopped = true;
    await this.done;
    return { ...this.figures };
  }

  private async sleepUnlessStopped(ms: number): Promise<void> {
    const until = Date.now() + Math.max(0, ms);
    while (!this.stopped && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
  }
}
