/**
 * RPC under chaos: 5,000 calls, 32 in flight, paced so they span the kills, to 2 `lightbus
 * run` processes serving the API (2 workers each) while one of them is SIGKILLed and started
 * again every few seconds and Redis is SIGKILLed and restarted twice. Every call must resolve
 * with its own value or reject with a typed (LightbusError) error within its timeout; a call
 * still unsettled `HANG_GRACE_MS` after its timeout is a hang.
 */
import { createBus, LightbusError } from 'lightbus';
import { chaosApis } from './fixtures/chaos-api.js';
import type { ChaosRun } from './lib/chaos-run.js';
import { check, scaled, type ChaosParams, type ScenarioOutcome } from './lib/result.js';
import { ChaosSchedule } from './lib/schedule.js';

const CALLS = 5000;
const IN_FLIGHT = 32;
const RATE_PER_S = 200;
const CALL_TIMEOUT_MS = 4000;
const HANG_GRACE_MS = 3000;

export async function rpcUnderChaos(run: ChaosRun, params: ChaosParams): Promise<ScenarioOutcome> {
  const services = [run.startService('rpc', 'rpc-0'), run.startService('rpc', 'rpc-1')];
  for (const service of services) {
    if (!(await run.untilRegistered(service.child, scaled(params, 60_000)))) throw new Error(`lightbus run did not start:\n${service.child.tail()}`);
  }
  const { rpcs } = chaosApis(run.prefix);
  const caller = createBus({ config: { serviceName: `${run.prefix}_caller`, redis: { url: run.redisUrl }, logLevel: 'silent' } });
  const errors = new Map<string, number>();
  const untyped = new Map<string, number>();
  let ok = 0;
  let wrong = 0;
  let hangs = 0;
  let late = 0;
  let next = 0;
  const started = Date.now();
  const firingMs = (CALLS / RATE_PER_S) * 1000;
  const schedule = new ChaosSchedule(run, services, { processKillEveryMs: 4000, redisKillsAtMs: [firingMs / 3, (2 * firingMs) / 3], redisDownMs: 1000, restartWaitMs: scaled(params, 60_000) });

  async function callOne(n: number): Promise<void> {
    const callStarted = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), CALL_TIMEOUT_MS + HANG_GRACE_MS);
    });
    try {
      const outcome = await Promise.race([caller.call(rpcs.rpcs.echo, { n }, { timeoutMs: CALL_TIMEOUT_MS }).then((value) => ({ value })), hang]);
      if (outcome === 'hang') hangs++;
      else if (outcome.value === n) ok++;
      else wrong++;
    } catch (error) {
      const name = (error as Error).name;
      const into = error instanceof LightbusError ? errors : untyped;
      into.set(name, (into.get(name) ?? 0) + 1);
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() - callStarted > CALL_TIMEOUT_MS + 1000) late++;
  }

  // Calls stop being made past this point, so the scenario reports rather than hits its bound.
  const issueUntil = started + scaled(params, 120_000);
  async function loop(): Promise<void> {
    while (next < CALLS && Date.now() < issueUntil) {
      const n = next++;
      const due = started + (n * 1000) / RATE_PER_S;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      await callOne(n);
    }
  }
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  } finally {
    await caller.close().catch(() => undefined);
  }
  const kills = await schedule.stop();
  const settled = ok + wrong + [...errors.values(), ...untyped.values()].reduce((a, b) => a + b, 0);
  return {
    figures: {
      calls: CALLS,
      made: next,
      inFlight: IN_FLIGHT,
      callTimeoutMs: CALL_TIMEOUT_MS,
      ok,
      typedErrors: Object.fromEntries(errors),
      untypedErrors: Object.fromEntries(untyped),
      wrongResults: wrong,
      hangs,
      settledLate: late,
      durationMs: Date.now() - started,
      processKills: kills.processKills,
      redisKills: kills.redisKills,
    },
    checks: [
      check('hangs', hangs === 0, `${hangs} calls unsettled ${HANG_GRACE_MS} ms past their timeout (must be 0)`),
      check('wrong results', wrong === 0, `${wrong} calls answered another value (must be 0)`),
      check('untyped errors', untyped.size === 0, `${[...untyped.values()].reduce((a, b) => a + b, 0)} rejections not a LightbusError (must be 0)`),
      check('every call made and settled', settled + hangs === CALLS, `${settled} settled + ${hangs} hung of ${CALLS} (${CALLS - next} not made in time)`),
      check('served at all', ok > CALLS / 2, `${ok} calls answered (more than half expected)`),
      check('redis restarts', kills.redisRestartFailures === 0, `${kills.redisRestartFailures} failed restarts`),
    ],
  };
}
