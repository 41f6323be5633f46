/**
 * Figure 6: what validation costs an RPC. The child serves the same echo RPC under two API
 * names; the config of both the child and the caller turns validation off for the second
 * (`apis: { <name>: { validate: { incoming: false, outgoing: false } } }`, the per-API form of
 * `apis.default.validate`), so the two differ in validation only: same processes, connections
 * and threads. Calls alternate one by one (ABBA), so whatever else the machine does hits
 * both alike; alternating in blocks of hundreds let the load of other programs decide.
 */
import type { BenchContext } from '../lib/context.js';
import { summarize, timeSerial, type LatencySummary } from '../lib/measure.js';
import { echoOnce } from './rpc-latency.js';

const WARMUP_PAIRS = 250;
const PAIRS = 4000;

export interface ValidationCost {
  on: LatencySummary;
  off: LatencySummary;
  /** (p50 on - p50 off) / p50 on, in percent: the share of a validated round trip spent validating. */
  percentOfRoundTrip: number;
}

export async function measureValidationCost(ctx: BenchContext): Promise<ValidationCost> {
  const validated = ctx.apis.main.rpcs.echo;
  const unvalidated = ctx.apis.unvalidated.rpcs.echo;
  // Even i: validated then unvalidated; odd i: the other way round.
  const samples = await timeSerial(2 * (WARMUP_PAIRS + PAIRS), (i) => {
    const pair = Math.floor(i / 2);
    const validatedFirst = pair % 2 === 0;
    const isValidated = (i % 2 === 0) === validatedFirst;
    return echoOnce(ctx.caller, isValidated ? validated : unvalidated, i);
  });
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 2 * WARMUP_PAIRS; i < samples.length; i++) {
    const validatedFirst = Math.floor(i / 2) % 2 === 0;
    ((i % 2 === 0) === validatedFirst ? on : off).push(samples[i]!);
  }
  const summaryOn = summarize(on);
  const summaryOff = summarize(off);
  return { on: summaryOn, off: summaryOff, percentOfRoundTrip: ((summaryOn.p50 - summaryOff.p50) / summaryOn.p50) * 100 };
}
