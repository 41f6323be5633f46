/**
 * `node --import tsx bench/cli-start.ts [runs] [other checkout]` (after `npm run build`): how
 * long the built CLI takes to start, one child process at a time, each timed from spawn:
 *
 * - `lightbus --help` and `lightbus --version`, to the process's exit;
 * - `lightbus run examples/bus.ts` (2 worker threads by default on a 2-core machine), to its
 *   "lightbus is running" line (every worker ready, the APIs and listeners registered in
 *   Redis), then SIGTERM and the wait for its exit (not counted). The runner's own `startupMs`
 *   is shown beside it: the rest is Node and the CLI loading before the runner starts.
 *
 * Each kind gets one warm-up run first (file cache, jiti's cache of the compiled examples).
 * Given another built checkout (e.g. a `git archive` of main, built, with a node_modules link),
 * runs alternate between the two, so that a busy machine slows both alike.
 * Needs Redis on 127.0.0.1:6379 (or LIGHTBUS_REDIS_URL). The `run` children get a service name
 * with a run id; at the end, their consumer groups and `lightbus:processes` entries are
 * deleted (the example's `auth` API and stream are shared with anyone running the example).
 * `BENCH_CHILD_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` profiles every child.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { repoRoot } from './lib/children.js';
import { percentile } from './lib/measure.js';

const RUNS = Number(process.argv[2] ?? 15);
const roots = [repoRoot, ...process.argv.slice(3)];
const EXIT_WAIT_MS = 15_000;
const READY_WAIT_MS = 30_000;
/** The stream of the example's `auth` API, where its listener's consumer group is made. */
const EXAMPLE_STREAM = 'auth.*:stream';
const runId = `lbclistart_${randomUUID().slice(0, 8)}`;
const redisUrl = process.env['LIGHTBUS_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
const nodeArgs = (process.env['BENCH_CHILD_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const scratch = mkdtempSync(join(tmpdir(), 'lightbus-cli-start-'));
const configPath = join(scratch, 'lightbus.config.json');
writeFileSync(configPath, JSON.stringify({ serviceName: `${runId}_svc`, redis: { url: redisUrl }, logLevel: 'info' }));

interface Started {
  /** Spawn to the measured moment (exit, or the ready line). */
  ms: number;
  /** The runner's own start-up, from its ready line. */
  runnerMs?: number;
}

/** Spawns the built CLI; resolves when it exits (code 0 only). */
function timeToExit(root: string, args: string[]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, 'bin/run.js', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_WAIT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - start;
      if (code === 0) resolve({ ms });
      else reject(new Error(`lightbus ${args.join(' ')} exited with ${signal ?? `code ${code}`}: ${stderr}`));
    });
  });
}

/** Spawns `lightbus run examples/bus.ts`; times it to its ready line, then stops it and waits for its exit. */
function timeToReady(root: string, n: number): Promise<Started> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, 'bin/run.js', 'run', 'examples/bus.ts', '--config', configPath, '--process-name', `${runId}_p${n}`], {
      cwd: root,
      env: { ...process.env, LIGHTBUS_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready: Started | undefined;
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (ready || !line.includes('"lightbus is running"')) return;
      ready = { ms: performance.now() - start, runnerMs: (JSON.parse(line) as { startupMs: number }).startupMs };
      child.kill('SIGTERM');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), READY_WAIT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (ready && code === 0) resolve(ready);
      else reject(new Error(`lightbus run exited with ${signal ?? `code ${code}`}${ready ? ' after a SIGTERM' : ' before it was ready'}:\n${output}`));
    });
  });
}

function p(samples: number[], q: number): string {
  return `${percentile([...samples].sort((a, b) => a - b), q).toFixed(0)} ms`;
}

/** Runs `once` RUNS times in each root (alternating, after a warm-up each); one line per root. */
async function measure(label: string, once: (root: string, n: number) => Promise<Started>): Promise<string[]> {
  const runs = roots.map((): Started[] => []);
  for (const root of roots) await once(root, 0);
  for (let n = 1; n <= RUNS; n++) for (const [i, root] of roots.entries()) runs[i]!.push(await once(root, n * roots.length + i));
  return runs.map((started, i) => {
    const ms = started.map((r) => r.ms);
    let line = `${label.padEnd(44)} p50 ${p(ms, 50)}, p90 ${p(ms, 90)}`;
    const runner = started.flatMap((r) => (r.runnerMs === undefined ? [] : [r.runnerMs]));
    if (runner.length > 0) line += ` (runner's startupMs: p50 ${p(runner, 50)}, p90 ${p(runner, 90)})`;
    return roots.length > 1 ? `${line}  [${roots[i]}]` : line;
  });
}

/** Deletes the run's consumer groups on the example's stream and its `lightbus:processes` entries. */
async function cleanUp(): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    if ((await redis.type(EXAMPLE_STREAM)) === 'stream') {
      for (const group of (await redis.xinfo('GROUPS', EXAMPLE_STREAM)) as unknown[][]) {
        const name = String(group[group.indexOf('name') + 1]);
        if (name.includes(runId)) await redis.xgroup('DESTROY', EXAMPLE_STREAM, name);
      }
    }
    const processes = (await redis.hkeys('lightbus:processes')).filter((field) => field.includes(runId));
    if (processes.length > 0) await redis.hdel('lightbus:processes', ...processes);
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const lines: string[] = [];
  try {
    lines.push(...(await measure('lightbus --help, spawn -> exit', (root) => timeToExit(root, ['--help']))));
    lines.push(...(await measure('lightbus --version, spawn -> exit', (root) => timeToExit(root, ['--version']))));
    lines.push(...(await measure('lightbus run examples/bus.ts, spawn -> ready', timeToReady)));
  } finally {
    await cleanUp();
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${RUNS} runs each, node ${process.version}\n${lines.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
