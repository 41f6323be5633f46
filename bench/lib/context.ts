/**
 * What every scenario gets: the run's unique names, a plain Redis client, the `lightbus run`
 * child and the process bus in this process that calls it.
 */
import type { Redis } from 'ioredis';
import type { Bus } from 'lightbus';
import type { BenchApis } from '../fixtures/bench-api.js';
import type { LightbusChild } from './children.js';
import type { CpuMeter } from './cpu.js';
import type { ReportMailbox } from './reports.js';

export interface BenchContext {
  /** Unique to this run; every Redis key the run creates contains it. */
  runId: string;
  redisUrl: string;
  /** A plain ioredis client (floors, checks, cleanup). */
  redis: Redis;
  /** Scratch directory of this run (config, child log, the crash marker). */
  tmpDir: string;
  apis: BenchApis;
  /** The process bus of this process, the caller. */
  caller: Bus;
  /** The `lightbus run --workers 2` process. */
  child: LightbusChild;
  /** Service name of the child (its consumer groups are `{service}-{listener}`). */
  childService: string;
  /** Reports fired by the child's handlers. */
  reports: ReportMailbox;
  /** `performance.now()` when the child first answered: it has been idle since. */
  childReadyAt: number;
  /** CPU time of this process, the child and redis-server. */
  cpu: CpuMeter;
  /** The file whose word ("on"/"off") the child's workers follow to trace or not (bench/fixtures/tracing-switch.ts). */
  tracingSwitch: string;
}
