/**
 * What `/healthz` and `/readyz` answer (src/metrics/ serves them): plain judgements over the
 * runner's phase and the invoker's loops, so the HTTP side knows nothing of the runtime.
 *
 * Health is "should this process be restarted": Redis answers a PING within the bound, no
 * blocking read is past its liveness deadline (a stall: running but reading nothing, see
 * transport/redis/read-deadline.ts; it fails health until the read answers again), and no
 * read loop ended unless it was stopped (a listener stopped by its `onError: stop-listener`
 * is a decision, not a fault; restarting would only run the poison event again). A main
 * thread that is stuck answers nothing at all, which a probe counts as a failure too.
 *
 * Readiness is "has this process joined the bus": workers started, APIs served, consumer
 * groups joined and onStart done; not while draining after SIGTERM, nor while every worker
 * thread is being replaced.
 */
import { withTimeout } from '../util/timeouts.js';

export type Phase = 'starting' | 'running' | 'stopping' | 'stopped';

export interface ProbeReport {
  ok: boolean;
  /** One entry per thing checked: `true`, or what is wrong. */
  checks: Record<string, true | string>;
}

/** What health is judged from: the invoker (absent before the runtime is built). */
export interface HealthSource {
  ping(): Promise<void>;
  loopStates(): Array<{ loop: string; state: 'reading' | 'stopped' | 'ended' }>;
  /** Blocking reads past their liveness deadline now. */
  stalledReads(): Array<{ read: string; waitingOn: string; waitingMs: number }>;
}

export async function checkHealth(source: HealthSource | undefined, redisTimeoutMs: number): Promise<ProbeReport> {
  if (!source) return { ok: true, checks: { runtime: true } };
  const checks: ProbeReport['checks'] = {};
  try {
    await withTimeout(source.ping(), redisTimeoutMs, () => new Error(`Redis did not answer a PING within ${redisTimeoutMs} ms`));
    checks['redis'] = true;
  } catch (error) {
    checks['redis'] = (error as Error).message;
  }
  for (const { read, waitingOn, waitingMs } of source.stalledReads()) {
    checks[`stalled:${read}`] = `its blocking read (${waitingOn}) has not answered for ${waitingMs} ms, past its liveness deadline; its connection is being recreated`;
  }
  for (const { loop, state } of source.loopStates()) {
    checks[loop] = state === 'ended' ? 'its read loop ended without being stopped' : true;
  }
  return { ok: Object.values(checks).every((check) => check === true), checks };
}

export interface ReadinessSource {
  phase: Phase;
  /** Live worker threads, and whether the handlers run in the main thread instead (`--inline`). */
  workers: number;
  inline: boolean;
}

export function checkReadiness({ phase, workers, inline }: ReadinessSource): ProbeReport {
  const checks: ProbeReport['checks'] = {
    started: phase === 'running' ? true : phase === 'starting' ? 'starting: loading the modules, serving and joining the consumer groups' : `${phase}: draining after a stop signal`,
    workers: inline || workers > 0 ? true : 'no worker thread is running (all are being replaced)',
  };
  return { ok: Object.values(checks).every((check) => check === true), checks };
}
