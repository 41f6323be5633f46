/**
 * Traffic for the failover tests: a bus in the test process fires `ping` events and calls
 * `echo` on a steady beat while a failover happens, and remembers what Redis accepted (a fire
 * that resolved), what each call settled with, and how long it took to settle. Then the judge:
 * every accepted event heard at least once (duplicates counted), every call settled with a
 * result or a typed error, no call run twice, the consumer group left with nothing pending.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type Cluster } from 'ioredis';
import type { TopologyNode } from '../../helpers/redis-cluster.js';
import { LightbusError, createBus, type Bus, type LightbusConfig } from '../../../src/index.js';
import { waitFor } from '../../helpers/wait.js';
import { REDIS_URL, fixtureEnv, groupOf, pendingCount, readTally, streamOf, type TestNames } from './bus-state.js';
import { startRunner, type RunnerProcess } from './runner-process.js';

/** What the runner logs when a blocking read misses its liveness deadline (src/transport/redis/read-deadline.ts). */
export const STALL_WARNING = 'blocking read past its liveness deadline (running but reading nothing); recreating its connection';

/** Each call's own timeout: a call outlives a failover (seconds) and still ends boundedly. */
export const CALL_TIMEOUT_MS = 8000;
/** How much later than its timeout a call may settle before the test calls it hung. */
const HANG_MARGIN_MS = 4000;
const BEAT_MS = 25;

/**
 * `lightbus run` of test/fixtures/failover-service.ts on `redis` (one worker, tallies on the
 * shared Redis), once it runs, and a bus in this process that calls and fires on the same Redis.
 */
export async function startFailoverService(names: TestNames, redis: NonNullable<LightbusConfig['redis']>, args: string[] = []): Promise<{ runner: RunnerProcess; bus: Bus }> {
  const runner = await startRunner({
    modules: ['failover-service.ts'],
    serviceName: names.service,
    workers: 1,
    config: { redis },
    env: fixtureEnv(names, REDIS_URL),
    args,
  });
  await runner.ready();
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent', redis } });
  return { runner, bus };
}

/** The runner logged no error line and stops with exit code 0. */
export async function stopsCleanly(runner: RunnerProcess): Promise<void> {
  assert.deepEqual(runner.records.filter((record) => record.level >= 50).map((r) => r.msg), [], 'no error lines');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
}

export interface CallOutcome {
  text: string;
  result?: string;
  /** The error's class name: a typed LightbusError, never a bare Error. */
  error?: string;
  settledMs: number;
}

export interface TrafficReport {
  fired: number;
  accepted: string[];
  /** Fires Redis did not accept (the error's name), to report; they are not expected to be heard. */
  fireErrors: string[];
  calls: CallOutcome[];
}

export class FailoverTraffic {
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;
  readonly report: TrafficReport = { fired: 0, accepted: [], fireErrors: [], calls: [] };

  constructor(
    private readonly bus: Bus,
    private readonly names: TestNames,
    private readonly tag: string,
  ) {}

  start(): void {
    this.running = this.loop();
  }

  /** Stops making traffic and waits (bounded by the call timeouts) for all of it to settle. */
  async stop(): Promise<TrafficReport> {
    this.stopped = true;
    await this.running;
    await Promise.all([...this.inFlight]);
    return this.report;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const n = ++this.seq;
      this.track(this.fire(`${this.tag}-${n}`));
      if (n % 2 === 0) this.track(this.call(`${this.tag}-${n}`));
      await sleep(BEAT_MS);
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async fire(id: string): Promise<void> {
    this.report.fired++;
    try {
      await this.bus.fire(`${this.names.api}.ping`, { id });
      this.report.accepted.push(id);
    } catch (error) {
      this.report.fireErrors.push((error as Error).name);
    }
  }

  private async call(text: string): Promise<void> {
    const startedAt = Date.now();
    try {
      const result = (await this.bus.call(`${this.names.api}.echo`, { text }, { timeoutMs: CALL_TIMEOUT_MS })) as string;
      this.report.calls.push({ text, result, settledMs: Date.now() - startedAt });
    } catch (error) {
      assert.ok(error instanceof LightbusError, `a call failed with an untyped error: ${(error as Error).stack}`);
      this.report.calls.push({ text, error: error.name, settledMs: Date.now() - startedAt });
    }
  }
}

export interface Judgement {
  accepted: number;
  /** Accepted, unheard, and only ever on a master the failover replaced. */
  lostByRedis: number;
  duplicates: number;
  calls: number;
  callsOk: number;
  callErrors: Record<string, number>;
  slowestCallMs: number;
}

/**
 * The assertions every failover test makes on its traffic; resolves with the figures to log.
 * `lostByRedis`: events only a replaced master had (see {@link FailoverStep.lostByRedis}), which may go unheard.
 */
export async function judgeTraffic(report: TrafficReport, tallyRedis: Redis, names: TestNames, waitMs: number, lostByRedis: ReadonlySet<string> = new Set()): Promise<Judgement> {
  assert.ok(report.accepted.length > 0, 'some events were accepted');
  const mustBeHeard = report.accepted.filter((id) => !lostByRedis.has(id));
  // At least once: every event Redis accepted (and kept) is heard, within a bounded wait.
  const tally = await waitFor(async () => {
    const now = await readTally(tallyRedis, names);
    return mustBeHeard.every((id) => (now[`heard:${id}`] ?? 0) >= 1) ? now : undefined;
  }, 'every accepted event to be heard', waitMs).catch(async (error: Error) => {
    const now = await readTally(tallyRedis, names);
    const missing = mustBeHeard.filter((id) => !now[`heard:${id}`]);
    throw new Error(`${error.message}: ${missing.length} of ${report.accepted.length} missing (${missing.slice(0, 10).join(', ')})`);
  });
  const duplicates = report.accepted.reduce((sum, id) => sum + Math.max(0, (tally[`heard:${id}`] ?? 0) - 1), 0);
  // Redelivery happens only for events that were read and not acknowledged when a connection
  // went: a handful per failover, never a replay of the stream.
  assert.ok(duplicates <= Math.max(20, report.accepted.length * 0.1), `${duplicates} duplicate deliveries of ${report.accepted.length} events`);
  const callErrors: Record<string, number> = {};
  for (const call of report.calls) {
    // No call hangs: each settled within its timeout and a margin.
    assert.ok(call.settledMs <= CALL_TIMEOUT_MS + HANG_MARGIN_MS, `call ${call.text} took ${call.settledMs} ms to settle`);
    // At most once: a call runs once or not at all; one that answered ran exactly once.
    const ran = tally[`ran:${call.text}`] ?? 0;
    assert.ok(ran <= 1, `call ${call.text} ran ${ran} times`);
    if (call.result !== undefined) {
      assert.equal(call.result, call.text);
      assert.equal(ran, 1, `call ${call.text} answered but its run was not tallied`);
    } else {
      callErrors[call.error!] = (callErrors[call.error!] ?? 0) + 1;
    }
  }
  return {
    accepted: report.accepted.length,
    lostByRedis: report.accepted.filter((id) => !tally[`heard:${id}`]).length,
    duplicates,
    calls: report.calls.length,
    callsOk: report.calls.filter((call) => call.result !== undefined).length,
    callErrors,
    slowestCallMs: Math.max(0, ...report.calls.map((call) => call.settledMs)),
  };
}

export interface FailoverStep {
  bus: Bus;
  names: TestNames;
  /** Where the fixture's tallies are (not on the topology that fails over). */
  tallyRedis: Redis;
  tag: string;
  /** Makes the failover happen; resolves with a check of whether it is over (a new master serves). */
  failover: () => Promise<() => Promise<boolean>>;
  /** A connection to wherever the stream lives now (closed by the caller). */
  streamRedis: () => Promise<Redis | Cluster>;
  /**
   * The ids of events the old master's stream held once every lightbus connection had left
   * it. Those missing from the new master's stream were written after the promotion and are
   * lost with the old master's resync (asynchronous replication: Redis's guarantee, not the
   * bus's), so they may go unheard. Only for a switchover, where the old master lives on.
   */
  oldMasterEvents?: () => ReadonlySet<string>;
}

/**
 * Fires and calls through a failover, judges the traffic, then checks that new work is handled
 * within a bounded wait and that the listener's group has nothing left pending.
 */
export async function throughFailover(step: FailoverStep): Promise<Judgement & { fired: number; fireErrors: number }> {
  const { bus, names, tallyRedis, tag } = step;
  const traffic = new FailoverTraffic(bus, names, tag);
  traffic.start();
  await sleep(500);
  const over = await step.failover();
  await waitFor(over, `a new master after the failover (${tag})`, 20_000, 100);
  // Traffic goes on across the switch, then stops.
  await sleep(2000);
  const report = await traffic.stop();
  const lostByRedis = new Set<string>();
  if (step.oldMasterEvents) {
    const kept = await withStreamRedis(step, (redis) => eventIdsIn(redis, streamOf(names.api)));
    for (const id of step.oldMasterEvents()) if (!kept.has(id)) lostByRedis.add(id);
  }
  const judged = await judgeTraffic(report, tallyRedis, names, 20_000, lostByRedis);
  const fresh = `${tag}-after`;
  assert.equal(await bus.call(`${names.api}.echo`, { text: fresh }, { timeoutMs: 10_000 }), fresh);
  await bus.fire(`${names.api}.ping`, { id: fresh });
  await waitFor(async () => (await readTally(tallyRedis, names))[`heard:${fresh}`] === 1, `${fresh} heard`, 10_000);
  await waitFor(
    () => withStreamRedis(step, async (redis) => (await pendingCount(redis, streamOf(names.api), groupOf(names.service, 'ears'))) === 0),
    'nothing pending in the group',
    10_000,
    100,
  );
  const figures = { fired: report.fired, fireErrors: report.fireErrors.length, ...judged };
  console.log(`[${tag}] ${JSON.stringify(figures)}`);
  return figures;
}

async function withStreamRedis<T>(step: FailoverStep, run: (redis: Redis | Cluster) => Promise<T>): Promise<T> {
  const redis = await step.streamRedis();
  try {
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

/** The `id` parameter of every fixture event in a stream. */
export async function eventIdsIn(redis: Redis | Cluster, stream: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const [, fields] of await redis.xrange(stream, '-', '+')) {
    const at = fields.indexOf(':id');
    if (at >= 0) ids.add(JSON.parse(fields[at + 1]!) as string);
  }
  return ids;
}

/**
 * kill -9 of a master once its replica has every write so far. Replication is asynchronous:
 * what a master acknowledged in its last moment may be lost with it, which is Redis's
 * guarantee, not the bus's. WAIT makes the test's traffic so far safe; it goes on during the outage.
 */
export async function killOnceReplicated(master: TopologyNode): Promise<void> {
  const direct = new Redis(master.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    await direct.call('WAIT', '1', '2000');
  } finally {
    direct.disconnect();
  }
  await master.kill();
}
