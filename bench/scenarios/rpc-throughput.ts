/**
 * Figure 2: RPC throughput with 64 calls in flight (64 loops each awaiting its call before
 * the next), after a warm-up at the same load. 64 is also the child's capacity: 2 workers x
 * the default `runner.concurrency` of 32.
 */
import type { BenchContext } from '../lib/context.js';
import type { CpuPerOperation } from '../lib/cpu.js';
import { runConcurrently } from '../lib/measure.js';
import { echoOnce } from './rpc-latency.js';

export const IN_FLIGHT = 64;
const WARMUP_MS = 1000;
const MEASURED_MS = 3000;

export interface RpcThroughput {
  inFlight: number;
  calls: number;
  perSecond: number;
  cpu: CpuPerOperation;
}

export async function measureRpcThroughput(ctx: BenchContext): Promise<RpcThroughput> {
  const echo = ctx.apis.main.rpcs.echo;
  let n = 0;
  await runConcurrently(IN_FLIGHT, WARMUP_MS, () => echoOnce(ctx.caller, echo, n++));
  const start = ctx.cpu.snapshot();
  const { completed, elapsedMs } = await runConcurrently(IN_FLIGHT, MEASURED_MS, () => echoOnce(ctx.caller, echo, n++));
  return { inFlight: IN_FLIGHT, calls: completed, perSecond: (completed / elapsedMs) * 1000, cpu: ctx.cpu.perOperation(start, completed) };
}
