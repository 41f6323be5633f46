/**
 * Figure 1: RPC round trip with one call in flight, from a process bus in this process to the
 * `lightbus run` child (Redis both ways, a worker thread hop on the far side), after a warm-up.
 */
import type { Bus, RpcRef } from 'lightbus';
import type { BenchContext } from '../lib/context.js';
import type { CpuPerOperation } from '../lib/cpu.js';
import { summarize, timeSerial, type LatencySummary } from '../lib/measure.js';

export const WARMUP_CALLS = 500;
export const MEASURED_CALLS = 5000;

type EchoRpc = RpcRef<{ text: string; n: number }, { text: string; n: number }>;

/** One echo call; throws if the answer is not the echo. */
export async function echoOnce(caller: Bus, echo: EchoRpc, n: number): Promise<void> {
  const reply = await caller.call(echo, { text: 'hello', n }, { timeoutMs: 5000 });
  if (reply.n !== n) throw new Error(`echo answered ${reply.n} to ${n}`);
}

export async function measureRpcLatency(ctx: BenchContext): Promise<LatencySummary & { cpu: CpuPerOperation }> {
  const echo = ctx.apis.main.rpcs.echo;
  await timeSerial(WARMUP_CALLS, (i) => echoOnce(ctx.caller, echo, i));
  const start = ctx.cpu.snapshot();
  const samples = await timeSerial(MEASURED_CALLS, (i) => echoOnce(ctx.caller, echo, i));
  return { ...summarize(samples), cpu: ctx.cpu.perOperation(start, MEASURED_CALLS) };
}
