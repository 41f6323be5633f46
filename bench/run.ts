/**
 * `npm run bench`: measures lightbus against the local Redis with a real `lightbus run` child
 * (`--workers 2`), beside raw Redis floors measured in the same run, prints the tables and
 * writes bench/results.json. See docs/benchmark.md for what each figure means.
 *
 * BENCH_CHILD_CONFIG (JSON) adds top-level settings to the child's config, to try one out:
 * `BENCH_CHILD_CONFIG='{"events":{"batchSize":100}}' npm run bench`.
 *
 * `npm run bench -- cluster` runs figure 10 alone (one redis-server against a 3-master
 * cluster, both private: the shared Redis is not used) and writes bench/results-cluster.json.
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LightbusConfig } from 'lightbus';
import { repoRoot } from './lib/children.js';
import { calibrationMs, describeMachine, machineBusyPercent, machineNotes } from './lib/cpu.js';
import { round, sleep } from './lib/measure.js';
import { renderCpuTable, renderTable, writeResults } from './lib/report.js';
import { Session, WORKERS } from './lib/session.js';
import { buildRows, cpuRows, floorRows, type Measured } from './targets.js';
import { measureListFloor } from './scenarios/floor-lists.js';
import { measureStreamFloor } from './scenarios/floor-streams.js';
import { measureIdleRss } from './scenarios/idle-rss.js';
import { measureRpcLatency } from './scenarios/rpc-latency.js';
import { measureRpcThroughput } from './scenarios/rpc-throughput.js';
import { measureValidationCost } from './scenarios/validation-cost.js';
import { measureEventThroughput } from './scenarios/event-throughput.js';
import { measureCrashRedelivery } from './scenarios/crash-redelivery.js';
import { measureOrderedEvents } from './scenarios/ordered-events.js';
import { measureTracingCost } from './scenarios/tracing-cost.js';
import { measureClusterScaling } from './scenarios/cluster.js';
import { runClusterAlone } from './cluster-alone.js';

const scenario = process.argv[2];
if (scenario !== undefined && scenario !== 'cluster') {
  console.error(`bench: no scenario "${scenario}"; the one that runs alone is "cluster" (npm run bench -- cluster), or give none for the whole run`);
  process.exit(2);
}

async function main(session: Session): Promise<void> {
  const extraConfig = JSON.parse(process.env['BENCH_CHILD_CONFIG'] ?? '{}') as LightbusConfig;
  const redisVersion = await session.redisVersion();
  // Other programs busy on this machine lower every rate: say so next to the figures.
  const busyBefore = await machineBusyPercent(1000);
  const speedBefore = calibrationMs();
  const ctx = await session.step(`starting lightbus run --workers ${WORKERS}`, 60_000, () => session.start(extraConfig));
  if (!ctx) throw new Error('lightbus run did not start; see the errors above');

  const m: Measured = {};
  m.listFloor = await session.step('floor: list ping-pong between two processes', 30_000, () => measureListFloor(ctx));
  m.streamFloor = await session.step('floor: pipelined XADD, XREADGROUP + XACK', 30_000, () => measureStreamFloor(ctx));
  m.idleRss = await session.step('idle RSS of lightbus run', 10_000, () => measureIdleRss(ctx.child, ctx.childReadyAt));
  m.rpcLatency = await session.step('RPC round trip, 1 in flight', 30_000, () => measureRpcLatency(ctx));
  m.rpcThroughput = await session.step('RPC throughput, 64 in flight', 30_000, () => measureRpcThroughput(ctx));
  m.validation = await session.step('validation on vs off', 60_000, () => measureValidationCost(ctx));
  // Before the crash: its replacement thread would be one more to switch.
  m.tracing = await session.step('tracing off vs on', 60_000, () => measureTracingCost(ctx));
  m.events = await session.step('event throughput, fire to handled', 90_000, () => measureEventThroughput(ctx));
  m.ordered = await session.step('orderBy listener: throughput, and latency at 20,000 events/s', 90_000, () => measureOrderedEvents(ctx));
  m.crash = await session.step('redelivery after a worker crash', 40_000, () => measureCrashRedelivery(ctx));
  await sleep(200);
  m.rssAfterRun = ctx.child.alive() ? ctx.child.rssMb() : undefined;
  const cleaned = await session.finish();
  // After the shared Redis' part: this one starts servers of its own.
  m.cluster = await session.step('figure 10: one server vs a 3-master cluster, 1 and 4 APIs', 300_000, () =>
    measureClusterScaling(session.runId, (line) => process.stderr.write(`${line}\n`)),
  );
  const speedAfter = calibrationMs();

  const machine = describeMachine(redisVersion);
  const notes = [
    ...machineNotes(busyBefore, speedBefore, speedAfter),
    ...(Object.keys(extraConfig).length > 0 ? [`BENCH_CHILD_CONFIG: ${JSON.stringify(extraConfig)}`] : []),
  ];
  const rows = buildRows(m);
  const title = [`lightbus benchmark, ${new Date().toISOString()}: ${machine}, lightbus run --workers ${WORKERS}`, ...notes].join('\n');
  console.log(`\n${renderTable(title, floorRows(m), rows)}\n\n${renderCpuTable(cpuRows(m), cpus().length)}\n`);
  if (session.errors.length > 0) console.log(`errors:\n${session.errors.map((e) => `  ${e.step}: ${e.error}`).join('\n')}\n`);
  const resultsPath = join(repoRoot, 'bench/results.json');
  writeResults(resultsPath, {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim(),
      memoryMb: Math.round(totalmem() / 2 ** 20),
      node: process.version,
      redis: redisVersion,
      busyPercentBefore: round(busyBefore, 1),
      calibrationMsBefore: round(speedBefore, 1),
      calibrationMsAfter: round(speedAfter, 1),
    },
    runId: session.runId,
    workers: WORKERS,
    childConfigExtra: extraConfig,
    figures: rows.map((row) => ({
      ...row,
      label: row.label.trim(),
      value: round(row.value),
      ...(row.floor ? { floor: { ...row.floor, value: round(row.floor.value) }, ratio: round(row.value / row.floor.value) } : {}),
    })),
    raw: m,
    redisCleanup: cleaned,
    errors: session.errors,
  });
  console.log(`results written to ${resultsPath}; removed ${cleaned?.keys ?? '?'} Redis keys of this run`);
}

if (scenario === 'cluster') {
  runClusterAlone().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
} else {
  const session = new Session(560_000);
  main(session).then(
    () => process.exit(0),
    async (error: unknown) => {
      console.error(`bench: ${(error as Error).stack ?? String(error)}`);
      await session.abort(1);
    },
  );
}
