/**
 * `npm run bench -- cluster`: figure 10 alone (bench/scenarios/cluster.ts), for a machine
 * others share: it starts its own redis-servers and never touches the shared Redis. Prints
 * the rows, the CPU table and the connections lightbus run held on each node, and writes
 * bench/results-cluster.json.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { killAllChildren, repoRoot } from './lib/children.js';
import { calibrationMs, describeMachine, machineBusyPercent, machineNotes } from './lib/cpu.js';
import { withTimeout } from './lib/measure.js';
import { renderCpuTable, renderTable, writeResults } from './lib/report.js';
import { WORKERS } from './lib/session.js';
import { measureClusterScaling, type TopologyFigures } from './scenarios/cluster.js';
import { buildRows, cpuRows } from './targets.js';

const OVERALL_TIMEOUT_MS = 400_000;

export async function runClusterAlone(): Promise<void> {
  process.on('exit', killAllChildren);
  const runId = `lbbench_${randomUUID().slice(0, 8)}`;
  const redisVersion = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown';
  const busyBefore = await machineBusyPercent(1000);
  const speedBefore = calibrationMs();
  const figures = await withTimeout(measureClusterScaling(runId, (line) => process.stderr.write(`${line}\n`)), OVERALL_TIMEOUT_MS, 'the cluster scenario');
  const speedAfter = calibrationMs();
  const title = [
    `lightbus benchmark, figure 10 alone, ${new Date().toISOString()}: ${describeMachine(redisVersion)}, lightbus run --workers ${WORKERS}`,
    ...machineNotes(busyBefore, speedBefore, speedAfter),
  ].join('\n');
  const m = { cluster: figures };
  console.log(`\n${renderTable(title, [], buildRows(m))}\n\n${renderCpuTable(cpuRows(m), cpus().length)}\n\n${renderConnections(figures)}\n`);
  const resultsPath = join(repoRoot, 'bench/results-cluster.json');
  writeResults(resultsPath, { date: new Date().toISOString(), machine: describeMachine(redisVersion), busyPercentBefore: busyBefore, calibrationMsBefore: speedBefore, calibrationMsAfter: speedAfter, runId, workers: WORKERS, figures });
  console.log(`results written to ${resultsPath}`);
}

/** The child's connections on each node, by role, once it served. */
function renderConnections(figures: TopologyFigures[]): string {
  const lines = ['Connections of lightbus run (CLIENT LIST on each node, matched by port)'];
  for (const f of figures) {
    lines.push(`  ${f.topology} (${f.keys}), ${f.apis} API(s): ${f.connections.map((node) => node.total).join(' + ')} = ${f.connections.reduce((sum, node) => sum + node.total, 0)}`);
    const roles = new Map<string, number[]>();
    f.connections.forEach((node, i) => {
      for (const [role, count] of Object.entries(node.byRole)) {
        const perNode = roles.get(role) ?? f.connections.map(() => 0);
        perNode[i] = count;
        roles.set(role, perNode);
      }
    });
    for (const [role, perNode] of [...roles].sort()) lines.push(`    ${role.padEnd(28)} ${perNode.join(' + ')}`);
  }
  return lines.join('\n');
}
