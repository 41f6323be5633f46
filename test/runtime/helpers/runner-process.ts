/**
 * The real `lightbus run` in a child process (`node bin/run.js run <fixture>`, which runs
 * dist/, rebuilt first when older than src/), with its stdout read as JSON log records. Every child started here is
 * remembered and can be killed by pid in an `after` hook, so a failing test never leaves a
 * runner behind. Waits are bounded; nothing here asserts on durations.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LightbusConfig } from '../../../src/index.js';
import { ensureBuilt } from '../../helpers/built-dist.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const binRun = join(repoRoot, 'bin', 'run.js');

/** The path of a fixture module in `test/fixtures/`. */
export function fixturePath(name: string): string {
  return join(repoRoot, 'test', 'fixtures', name);
}

/** One line of the runner's stdout: a pino record. */
export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface RunnerOptions {
  /** Module paths given to `lightbus run` (absolute, or fixture names in `test/fixtures/`). */
  modules: string[];
  serviceName: string;
  processName?: string;
  workers?: number;
  /** Written to a temporary `lightbus.config.json` and passed with `--config`. */
  config?: LightbusConfig;
  /** Environment for the fixtures (their API names, tally keys...). */
  env?: Record<string, string>;
  /** More command-line arguments (`--only rpcs`...). */
  args?: string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** A running `lightbus run` child and what it wrote so far. */
export class RunnerProcess {
  /** Parsed stdout lines, in order. */
  readonly records: LogRecord[] = [];
  /** Stdout lines that were not valid JSON (should stay empty). */
  readonly invalidLines: string[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private partial = '';
  /** Exited, and its output fully read. */
  private ended = false;
  private readonly watchers = new Set<() => void>();

  constructor(private readonly child: ChildProcess) {
    running.add(child);
    this.exited = new Promise<Exit>((resolve) => {
      // 'close' comes after the pipes ended, so every line the child wrote has been read.
      child.once('close', (code, signal) => {
        running.delete(child);
        this.ended = true;
        this.notify();
        resolve({ code, signal });
      });
    });
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first record matching `predicate` (already written or to come); rejects after `ms` or on exit. */
  waitForLog(predicate: (record: LogRecord) => boolean, ms: number, what: string): Promise<LogRecord> {
    return this.waitFor(() => this.records.find(predicate), ms, what);
  }

  /** Resolves once `count` records match `predicate`. */
  async waitForLogs(predicate: (record: LogRecord) => boolean, count: number, ms: number, what: string): Promise<LogRecord[]> {
    return this.waitFor(() => {
      const found = this.records.filter(predicate);
      return found.length >= count ? found : undefined;
    }, ms, what);
  }

  /** Waits for the `lightbus is running` record (start-up done: APIs served, listeners ready). */
  ready(ms = 30_000): Promise<LogRecord> {
    return this.waitForLog((r) => r.msg === 'lightbus is running', ms, 'the runner to be running');
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) process.kill(this.pid, signal);
  }

  /** Resolves with the exit, or rejects after `ms` (then kills the child). */
  async exit(ms: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.kill();
            reject(new Error(`the runner did not exit within ${ms} ms; killed it. Last output:\n${this.tail()}`));
          }, ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then waits for the exit (bounded). */
  async stop(ms = 20_000): Promise<Exit> {
    this.signal('SIGTERM');
    return this.exit(ms);
  }

  /** Stops reading the child's stdout, so its pipe fills up and its writes must wait (as with a slow log reader). */
  pauseOutput(): void {
    this.child.stdout!.pause();
  }

  resumeOutput(): void {
    this.child.stdout!.resume();
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 30): string {
    const out = this.stdout.split('\n').slice(-lines).join('\n');
    const err = this.stderr.split('\n').slice(-lines).join('\n');
    return `--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  }

  private waitFor<T>(probe: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}\n${this.tail()}`));
      }, ms);
      const watcher = (): void => {
        const value = probe();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (this.ended) {
          finish();
          reject(new Error(`the runner exited while waiting for ${what}\n${this.tail()}`));
        }
      };
      const finish = () => {
        clearTimeout(timer);
        this.watchers.delete(watcher);
      };
      this.watchers.add(watcher);
      watcher();
    });
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        this.records.push(JSON.parse(line) as LogRecord);
      } catch {
        this.invalidLines.push(line);
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

/** Starts `lightbus run` on the given modules; does not wait for readiness (see {@link RunnerProcess.ready}). */
export async function startRunner(options: RunnerOptions): Promise<RunnerProcess> {
  ensureBuilt();
  const args = [binRun, 'run', ...options.modules.map((m) => (m.startsWith('/') ? m : fixturePath(m)))];
  args.push('--service-name', options.serviceName);
  if (options.processName) args.push('--process-name', options.processName);
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  if (options.config) args.push('--config', await writeConfig(options.config));
  args.push(...(options.args ?? []));
  // The parent's LIGHTBUS_* settings must not leak into a test's runner.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LIGHTBUS_')));
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new RunnerProcess(child);
}

/** Writes a config to a fresh temporary directory; removed by {@link cleanUpRunners}. */
export async function writeConfig(config: LightbusConfig): Promise<string> {
  const path = join(await tempDir(), 'lightbus.config.json');
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** A temporary directory removed by {@link cleanUpRunners}. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lightbus-test-'));
  tempDirs.add(dir);
  return dir;
}

/** Kills (by pid) every runner still alive and removes the temporary config files. For `after` hooks. */
export async function cleanUpRunners(): Promise<void> {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  await Promise.all([...tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  tempDirs.clear();
}
