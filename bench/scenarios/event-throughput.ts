/**
 * Figure 3: events per second from the first fire to the last handled, for one listener
 * group (the child's `counter` listener, default batch size and concurrency 1).
 *
 * The benchmark fires N-1 events all at once (the process bus pipelines them), waits for
 * them to be written, then fires the one marked `last`: it is then the newest entry of the
 * stream, and since the listener handles batches one after another in stream order, its
 * handling means every event was handled. Its handler records the time (wall clock) and
 * reports it in an event; that report travels after the measured moment, so the only
 * observation cost inside the measured span is the wait for the N-1 writes before the last
 * fire (one Redis round trip). Afterwards the consumer group is checked: nothing pending,
 * nothing left unread.
 */
import type { BenchContext } from '../lib/context.js';
import type { CpuPerOperation } from '../lib/cpu.js';
import { wallClockMs, withTimeout } from '../lib/measure.js';

const WARMUP_EVENTS = 1000;
export const MEASURED_EVENTS = 20_000;

export interface EventThroughput {
  events: number;
  perSecond: number;
  /** From the first fire until all N fires resolved (the writes, not the handling). */
  firePerSecond: number;
  /** The consumer group had nothing pending and no lag afterwards. */
  verified: boolean;
  cpu: CpuPerOperation;
}

export async function measureEventThroughput(ctx: BenchContext): Promise<EventThroughput> {
  await fireAndDrain(ctx, 0, WARMUP_EVENTS);
  const cpuStart = ctx.cpu.snapshot();
  const { startedAt, firedAt, handledAt } = await fireAndDrain(ctx, WARMUP_EVENTS, MEASURED_EVENTS);
  const cpu = ctx.cpu.perOperation(cpuStart, MEASURED_EVENTS);
  return {
    cpu,
    events: MEASURED_EVENTS,
    perSecond: (MEASURED_EVENTS / (handledAt - startedAt)) * 1000,
    firePerSecond: (MEASURED_EVENTS / (firedAt - startedAt)) * 1000,
    verified: await groupIsDone(ctx),
  };
}

async function fireAndDrain(ctx: BenchContext, firstSeq: number, count: number): Promise<{ startedAt: number; firedAt: number; handledAt: number }> {
  const { caller, apis } = ctx;
  const tick = apis.main.events.tick;
  const lastSeq = firstSeq + count - 1;
  const drained = ctx.reports.waitFor<{ seq: number; handledAt: number }>('drained', lastSeq, 60_000);
  drained.catch(() => undefined);
  const startedAt = wallClockMs();
  const fires: Array<Promise<unknown>> = [];
  for (let seq = firstSeq; seq < lastSeq; seq++) fires.push(caller.fire(tick, { seq, last: false }));
  await withTimeout(Promise.all(fires), 60_000, `firing ${count - 1} events`);
  await caller.fire(tick, { seq: lastSeq, last: true });
  const firedAt = wallClockMs();
  const { handledAt } = await drained;
  return { startedAt, firedAt, handledAt };
}

/** The `counter` group read everything and acknowledged everything (polled briefly: the last XACK may still travel). */
async function groupIsDone(ctx: BenchContext): Promise<boolean> {
  const stream = `${ctx.apis.main.name}.*:stream`;
  const group = `${ctx.childService}-counter`;
  for (let attempt = 0; attempt < 20; attempt++) {
    const groups = (await ctx.redis.xinfo('GROUPS', stream)) as Array<Array<string | number | null>>;
    for (const fields of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
      if (info.get('name') === group && Number(info.get('pending')) === 0 && Number(info.get('lag')) === 0) return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
