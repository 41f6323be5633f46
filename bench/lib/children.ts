/**
 * The child processes of the benchmark: `lightbus run` and the forked fixtures. Every
 * child is registered at spawn, and {@link killAllChildren} (also run from an `exit` handler)
 * ends each one by its pid, so none outlives the benchmark, even when a scenario throws.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { withTimeout } from './measure.js';

export const repoRoot = new URL('../..', import.meta.url).pathname;

const live = new Set<ChildProcess>();
/** Pids the benchmark asked to stop: their exit is expected, not a death. */
const stopRequested = new Set<number>();

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** A running `lightbus run` process. */
export interface LightbusChild {
  readonly pid: number;
  readonly logPath: string;
  /** Rejects if the process exits before {@link stopChild}. */
  readonly died: Promise<never>;
  /** VmRSS from /proc/<pid>/status, in MB (the main thread and every worker thread: one process). */
  rssMb(): number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  tail(lines?: number): string;
}

export interface LightbusChildOptions {
  /** Module to run, relative to the repository root. */
  module: string;
  workers: number;
  configPath: string;
  /** Extra environment (the bus module reads BENCH_PREFIX). */
  env: Record<string, string>;
  /** Where stdout and stderr go. */
  logPath: string;
  /** e.g. `['--only', 'rpcs']`. */
  extraArgs?: string[];
  /** Options for node itself, before `bin/run.js` (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

/** Spawns `node bin/run.js run <module> --workers N --config <file>` with LIGHTBUS_LOG_LEVEL=warn. */
export function spawnLightbus(options: LightbusChildOptions): LightbusChild {
  const args = [...(options.nodeArgs ?? []), 'bin/run.js', 'run', options.module, '--workers', String(options.workers), '--config', options.configPath, ...(options.extraArgs ?? [])];
  const child = track(
    spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, LIGHTBUS_LOG_LEVEL: 'warn', LIGHTBUS_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const pid = child.pid!;
  const log = createWriteStream(options.logPath);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.once('close', () => log.end());
  const died = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      if (!stopRequested.has(pid)) reject(new Error(`lightbus run (pid ${pid}) exited early with ${signal ?? `code ${code}`}; its output is in ${options.logPath}`));
    });
  });
  died.catch(() => undefined);
  return {
    pid,
    logPath: options.logPath,
    died,
    rssMb: () => readRssMb(pid),
    alive: () => child.exitCode === null && child.signalCode === null,
    tail: (lines = 20) => tailOf(options.logPath, lines),
  };
}

/** Stops a child by its pid: SIGTERM (graceful stop), then SIGKILL after `graceMs`. Returns how it ended. */
export async function stopChild(pid: number, graceMs = 8000): Promise<string> {
  const child = [...live].find((c) => c.pid === pid);
  stopRequested.add(pid);
  if (!child) return 'already exited';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  signal(pid, 'SIGTERM');
  try {
    const [code, signalName] = await withTimeout(exited, graceMs, `stopping pid ${pid}`);
    return signalName ?? `code ${code}`;
  } catch {
    signal(pid, 'SIGKILL');
    await withTimeout(exited, 2000, `killing pid ${pid}`).catch(() => undefined);
    return 'SIGKILL after the grace period';
  }
}

/** Kills a child by its pid with SIGKILL (a crash the caller wants, not a death) and waits for it to exit. */
export async function killChild(pid: number): Promise<void> {
  const child = [...live].find((c) => c.pid === pid);
  stopRequested.add(pid);
  if (!child) return;
  const exited = once(child, 'exit');
  signal(pid, 'SIGKILL');
  await withTimeout(exited, 5000, `killing pid ${pid}`).catch(() => undefined);
}

/** Forks a fixture (bench/fixtures/<name>.ts, with an IPC channel) and waits for its "ready" message; returns its pid. */
export async function startFixture(name: string, args: string[]): Promise<number> {
  const child = track(
    fork(join(repoRoot, `bench/fixtures/${name}.ts`), args, {
      execArgv: ['--import', 'tsx'],
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const ready = once(child, 'message');
  const exited = once(child, 'exit').then(() => {
    throw new Error(`bench/fixtures/${name}.ts exited before it was ready`);
  });
  await withTimeout(Promise.race([ready, exited]), 15_000, `starting bench/fixtures/${name}.ts`);
  return child.pid!;
}

/** Last resort (exit handler, errors): SIGKILL every child still running, by pid. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      stopRequested.add(child.pid);
      signal(child.pid, 'SIGKILL');
    }
  }
}

/** Sends a signal to one of our children by pid; one that has just exited is not an error. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

function tailOf(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
