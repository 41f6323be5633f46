/**
 * `npm run chaos`: the chaos suite (docs/reliability.md). Each scenario starts its own
 * `redis-server` (free loopback port, AOF `appendfsync always`, stopped by pid) and real
 * `lightbus run` processes, runs within a hard time bound, and reports PASS or FAIL with its
 * figures; the summary is printed and written to bench/chaos-results.json.
 *
 *   npm run chaos                                  every scenario
 *   npm run chaos -- --scenario events             one (events, rpc, malformed, shutdown)
 *   npm run chaos -- --bound-scale 2               every time bound doubled (a busy machine)
 *   npm run chaos -- --poison-percent 0            no handler kills its worker
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllChildren, repoRoot } from '../lib/children.js';
import { calibrationMs, machineBusyPercent } from '../lib/cpu.js';
import { withTimeout } from '../lib/measure.js';
import { writeResults } from '../lib/report.js';
import { eventsUnderChaos } from './events.js';
import { rpcUnderChaos } from './rpc.js';
import { malformedFlood } from './malformed.js';
import { shutdownUnderLoad } from './shutdown.js';
import { ChaosRun } from './lib/chaos-run.js';
import type { ChaosParams, ScenarioOutcome, ScenarioResult } from './lib/result.js';
import { renderSummary } from './lib/summary.js';

const SCENARIOS: Record<string, { run: (run: ChaosRun, params: ChaosParams) => Promise<ScenarioOutcome>; boundMs: number }> = {
  events: { run: eventsUnderChaos, boundMs: 300_000 },
  rpc: { run: rpcUnderChaos, boundMs: 180_000 },
  malformed: { run: malformedFlood, boundMs: 240_000 },
  shutdown: { run: shutdownUnderLoad, boundMs: 150_000 },
};

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    'bound-scale': { type: 'string', default: '1' },
    'poison-percent': { type: 'string', default: '1' },
  },
});
const params: ChaosParams = { boundScale: Number(values['bound-scale']), poisonPercent: Number(values['poison-percent']) };
const chosen = values.scenario ?? Object.keys(SCENARIOS);
for (const name of chosen) if (!SCENARIOS[name]) throw new Error(`unknown scenario "${name}"; choose from ${Object.keys(SCENARIOS).join(', ')}`);

process.on('exit', killAllChildren);
// A scenario cut off by its time bound goes on failing in the background against a stopped Redis: that is not news.
process.on('unhandledRejection', () => undefined);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

async function runOne(name: string): Promise<ScenarioResult> {
  const scenario = SCENARIOS[name]!;
  const boundMs = Math.round(scenario.boundMs * params.boundScale);
  process.stderr.write(`chaos: ${name} (bound ${boundMs / 1000} s)...\n`);
  const started = Date.now();
  let run: ChaosRun | undefined;
  let result: ScenarioResult;
  try {
    run = await ChaosRun.open();
    const outcome = await withTimeout(scenario.run(run, params), boundMs, `scenario ${name}`);
    result = { scenario: name, pass: outcome.checks.every((c) => c.pass), durationMs: Date.now() - started, ...outcome };
  } catch (error) {
    result = { scenario: name, pass: false, durationMs: Date.now() - started, figures: {}, checks: [], error: (error as Error).message };
  }
  if (run) {
    if (!result.pass) result.logsKeptIn = run.tmpDir;
    await withTimeout(run.close(!result.pass), 30_000, 'stopping the scenario').catch(() => killAllChildren());
  }
  process.stderr.write(`chaos: ${name} ${result.pass ? 'PASS' : 'FAIL'} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
  return result;
}

const busyBefore = await machineBusyPercent(1000);
const speed = calibrationMs();
const results: ScenarioResult[] = [];
for (const name of chosen) results.push(await runOne(name));
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim(),
  node: process.version,
  busyPercentBefore: Math.round(busyBefore),
  loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  calibrationMs: Math.round(speed),
};
const date = new Date().toISOString();
console.log(renderSummary(date, machine, params, results));
const path = join(repoRoot, 'bench/chaos-results.json');
writeResults(path, { date, machine, params, results });
console.log(`results written to ${path}`);
process.exit(results.every((r) => r.pass) ? 0 : 1);
