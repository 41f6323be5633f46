/**
 * Figure 7: an `orderBy` listener (the child's `ordered` listener, `orderBy: 'key'`, default
 * concurrency: two batches per worker thread, 2 workers), measured two ways.
 *
 * - Throughput: N events over 64 keys fired all at once (the process bus pipelines them),
 *   from the first fire to the last handling. Unlike the `counter` listener, batches of
 *   different keys finish out of stream order, so no single event can mark the end: each
 *   worker thread reports what it handled (a latency per event and the time of its latest
 *   handling) every 50 ms, and the run ends when the reports add up to N.
 * - Latency at a steady rate: events fired at 20,000/s (a slice every 5 ms, paced by the
 *   clock, not by the answers) for a few seconds, each carrying its fire time; the latency is
 *   from the fire call to the start of its handler, by the wall clock of each process.
 */
import type { BenchContext } from '../lib/context.js';
import type { CpuPerOperation } from '../lib/cpu.js';
import { sleep, summarize, wallClockMs, withTimeout, type LatencySummary } from '../lib/measure.js';

const KEYS = 64;
/**
 * Whole bursts fired before the measured one. Every thread on the path (the caller, the child's
 * main thread and workers) runs cold code for the first tens of thousands of events: against one
 * child, bursts of 40,000 measured 34,000-39,000/s first, 41,000-48,000/s second and
 * 46,000-55,000/s third (CPU per event about 48, 37 and 32 µs). A service that runs for hours is warm.
 */
const WARMUP_BURSTS = 2;
export const ORDERED_EVENTS = 40_000;
export const STEADY_RATE = 20_000;
const STEADY_MS = 3000;
const SLICE_MS = 5;

export interface OrderedEvents {
  events: number;
  keys: number;
  perSecond: number;
  /** Fire-to-handled latency of the same events, all fired at once (mostly queueing). */
  burst: LatencySummary;
  /** Fire-to-handled latency at {@link STEADY_RATE} events/s. */
  steady: LatencySummary & { rate: number; achievedRate: number };
  cpu: CpuPerOperation;
}

type LatencyReport = { seq: number; values: number[]; lastHandledAt: number };

export async function measureOrderedEvents(ctx: BenchContext): Promise<OrderedEvents> {
  for (let i = 0; i < WARMUP_BURSTS; i++) await burst(ctx, ORDERED_EVENTS);
  const cpuStart = ctx.cpu.snapshot();
  const measured = await burst(ctx, ORDERED_EVENTS);
  const cpu = ctx.cpu.perOperation(cpuStart, ORDERED_EVENTS);
  const steady = await steadyRate(ctx);
  return { events: ORDERED_EVENTS, keys: KEYS, perSecond: (ORDERED_EVENTS / (measured.lastHandledAt - measured.startedAt)) * 1000, burst: summarize(measured.latencies), steady, cpu };
}

async function burst(ctx: BenchContext, count: number): Promise<{ startedAt: number; lastHandledAt: number; latencies: number[] }> {
  const tick = ctx.apis.ordered.events.tick;
  ctx.reports.clear('latencies');
  const startedAt = wallClockMs();
  const fires: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) fires.push(ctx.caller.fire(tick, { key: `k${i % KEYS}`, firedAt: wallClockMs() }));
  await withTimeout(Promise.all(fires), 60_000, `firing ${count} ordered events`);
  const reports = await reportsAddingUpTo(ctx, count, 60_000);
  return { startedAt, lastHandledAt: Math.max(...reports.map((r) => r.lastHandledAt)), latencies: reports.flatMap((r) => r.values) };
}

async function steadyRate(ctx: BenchContext): Promise<OrderedEvents['steady']> {
  const tick = ctx.apis.ordered.events.tick;
  ctx.reports.clear('latencies');
  const perSlice = (STEADY_RATE * SLICE_MS) / 1000;
  const slices = STEADY_MS / SLICE_MS;
  const fires: Array<Promise<unknown>> = [];
  const startedAt = wallClockMs();
  let fired = 0;
  for (let slice = 0; slice < slices; slice++) {
    // Catch up to the clock: a late slice fires what the earlier ones owed, so the rate holds.
    const due = Math.min(slices * perSlice, Math.floor(((wallClockMs() - startedAt) / SLICE_MS + 1) * perSlice));
    for (; fired < due; fired++) fires.push(ctx.caller.fire(tick, { key: `k${fired % KEYS}`, firedAt: wallClockMs() }));
    const nextAt = startedAt + (slice + 1) * SLICE_MS;
    await sleep(Math.max(0, nextAt - wallClockMs()));
  }
  await withTimeout(Promise.all(fires), 60_000, `firing ${fired} ordered events at ${STEADY_RATE}/s`);
  const firedFor = wallClockMs() - startedAt;
  const reports = await reportsAddingUpTo(ctx, fired, 60_000);
  return { ...summarize(reports.flatMap((r) => r.values)), rate: STEADY_RATE, achievedRate: (fired / firedFor) * 1000 };
}

/** Waits (bounded) until the threads' reports account for `count` handled events. */
async function reportsAddingUpTo(ctx: BenchContext, count: number, timeoutMs: number): Promise<LatencyReport[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reports = ctx.reports.all<LatencyReport>('latencies');
    const handled = reports.reduce((total, r) => total + r.values.length, 0);
    if (handled >= count) return reports;
    if (Date.now() > deadline) throw new Error(`the ordered listener reported ${handled} of ${count} events within ${timeoutMs} ms`);
    await sleep(20);
  }
}
