/**
 * Figure 7: what tracing costs an RPC, in the same run: the round trip with one call in flight
 * (figure 1) and the throughput with 64 (figure 2), with tracing off (no SDK registered, in
 * this process nor in the child's workers) and on (an SDK with a batch span processor and an
 * in-memory exporter on both sides: `rpc.call` here, `rpc.execute` in the workers). Blocks
 * alternate off, on, off, on, so a machine that slows down over the run hits both alike.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { summarize, timeSerial, runConcurrently, type LatencySummary, sleep } from '../lib/measure.js';
import { TracingSwitch } from '../fixtures/tracing-switch.js';
import { IN_FLIGHT } from './rpc-throughput.js';
import { echoOnce } from './rpc-latency.js';
import { WORKERS } from '../lib/session.js';

const CALLS_PER_BLOCK = 2000;
const THROUGHPUT_MS_PER_BLOCK = 2000;
const WARMUP_CALLS = 300;

export interface TracedFigures {
  latency: LatencySummary;
  perSecond: number;
}

export interface TracingCost {
  off: TracedFigures;
  on: TracedFigures;
  /** Spans exported while on: by this process (`rpc.call`) and by the child's workers. */
  spans: { caller: number; workers: number };
  /** Calls made while on. */
  tracedCalls: number;
}

export async function measureTracingCost(ctx: BenchContext): Promise<TracingCost> {
  const echo = ctx.apis.main.rpcs.echo;
  const local = new TracingSwitch();
  const samples = { off: [] as number[], on: [] as number[] };
  const throughput = { off: { calls: 0, ms: 0 }, on: { calls: 0, ms: 0 } };
  let n = 0;
  let tracedCalls = 0;
  let workerSpans = 0;
  try {
    for (const mode of ['off', 'on', 'off', 'on'] as const) {
      if (mode === 'on') local.turnOn();
      else await local.turnOff();
      workerSpans = await switchChild(ctx, mode);
      await timeSerial(WARMUP_CALLS, () => echoOnce(ctx.caller, echo, n++));
      samples[mode].push(...(await timeSerial(CALLS_PER_BLOCK, () => echoOnce(ctx.caller, echo, n++))));
      const { completed, elapsedMs } = await runConcurrently(IN_FLIGHT, THROUGHPUT_MS_PER_BLOCK, () => echoOnce(ctx.caller, echo, n++));
      throughput[mode].calls += completed;
      throughput[mode].ms += elapsedMs;
      if (mode === 'on') tracedCalls += WARMUP_CALLS + CALLS_PER_BLOCK + completed;
    }
  } finally {
    await local.turnOff();
    workerSpans = await switchChild(ctx, 'off');
  }
  const figures = (mode: 'off' | 'on'): TracedFigures => ({ latency: summarize(samples[mode]), perSecond: (throughput[mode].calls / throughput[mode].ms) * 1000 });
  return { off: figures('off'), on: figures('on'), spans: { caller: local.exported, workers: workerSpans }, tracedCalls };
}

/** Writes the word the child's workers follow and waits until each has answered it; returns their spans so far. */
async function switchChild(ctx: BenchContext, mode: 'on' | 'off'): Promise<number> {
  const file = ctx.tracingSwitch;
  writeFileSync(file, mode);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answers = readdirSync(dirname(file))
      .filter((name) => name.startsWith(`${basename(file)}.`))
      .map((name) => readFileSync(`${dirname(file)}/${name}`, 'utf8').split(' '));
    const agreed = answers.filter(([word]) => word === mode);
    if (agreed.length >= WORKERS) return agreed.reduce((sum, [, spans]) => sum + Number(spans), 0);
    if (Date.now() > deadline) throw new Error(`the child's workers did not turn tracing ${mode} (answers: ${JSON.stringify(answers)})`);
    await sleep(20);
  }
}
