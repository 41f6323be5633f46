/**
 * One benchmark session, shared by bench/run.ts and bench/pieces.ts: a unique run id, a
 * scratch directory, a plain Redis client, the `lightbus run` child with the process bus that
 * calls it, and the guarantees: each step is bounded, the whole session is bounded, the
 * child is stopped by its pid (SIGKILLed from an exit handler at worst), and every Redis key
 * of the run is deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createBus, type Bus, type LightbusConfig } from 'lightbus';
import { benchApis } from '../fixtures/bench-api.js';
import { killAllChildren, spawnLightbus, stopChild, type LightbusChild } from './children.js';
import type { BenchContext } from './context.js';
import { CpuMeter } from './cpu.js';
import { withTimeout } from './measure.js';
import { cleanUpRun } from './redis-cleanup.js';
import { ReportMailbox } from './reports.js';

export const WORKERS = 2;

export class Session {
  readonly runId = `lbbench_${randomUUID().slice(0, 8)}`;
  readonly redisUrl = process.env['LIGHTBUS_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
  readonly tmpDir = mkdtempSync(join(tmpdir(), 'lightbus-bench-'));
  readonly redis: Redis;
  readonly errors: Array<{ step: string; error: string }> = [];
  private caller: Bus | undefined;
  private child: LightbusChild | undefined;
  private finishing: Promise<{ keys: number; other: number } | undefined> | undefined;
  private aborting = false;

  constructor(overallTimeoutMs: number) {
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 2 });
    process.on('exit', killAllChildren);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        console.error(`bench: ${signal}; stopping the children and cleaning up`);
        void this.abort(130);
      });
    }
    setTimeout(() => {
      console.error(`bench: the run took longer than ${overallTimeoutMs / 1000} s; giving up`);
      void this.abort(1);
    }, overallTimeoutMs).unref();
  }

  /** Runs one step with a timeout; a failure is recorded and the run goes on. */
  async step<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.aborting) return undefined;
    process.stderr.write(`bench: ${name}...\n`);
    try {
      return await withTimeout(fn(), timeoutMs, name);
    } catch (error) {
      if (this.aborting) return undefined;
      this.errors.push({ step: name, error: (error as Error).message });
      console.error(`bench: ${name} failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * Starts `lightbus run bench/fixtures/bench-bus.ts --workers 2` and the process bus that
   * calls it, and waits until the child answers. `extraConfig` adds top-level settings to the
   * child's config.
   */
  async start(extraConfig: LightbusConfig = {}): Promise<BenchContext> {
    const apis = benchApis(this.runId);
    const childService = `${this.runId}_svc`;
    const noValidation: LightbusConfig['apis'] = { [apis.unvalidated.name]: { validate: { incoming: false, outgoing: false } } };
    const configPath = join(this.tmpDir, 'lightbus.config.json');
    const redis = { url: this.redisUrl };
    writeFileSync(configPath, JSON.stringify({ ...extraConfig, serviceName: childService, redis, logLevel: 'warn', apis: noValidation }));
    // The child's workers start with tracing off (bench/fixtures/tracing-switch.ts).
    const tracingSwitch = join(this.tmpDir, 'tracing-switch');
    writeFileSync(tracingSwitch, 'off');
    const child = spawnLightbus({
      module: 'bench/fixtures/bench-bus.ts',
      workers: WORKERS,
      configPath,
      env: { BENCH_PREFIX: this.runId, BENCH_TRACING_SWITCH: tracingSwitch },
      logPath: join(this.tmpDir, 'lightbus-run.log'),
      // e.g. BENCH_CHILD_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (NODE_OPTIONS refuses --cpu-prof).
      nodeArgs: process.env['BENCH_CHILD_NODE_ARGS']?.split(' ').filter(Boolean) ?? [],
    });
    this.child = child;
    const caller = createBus({ config: { serviceName: `${this.runId}_caller`, redis, logLevel: 'warn', apis: noValidation } });
    this.caller = caller;
    const started = await withTimeout(
      (async () => {
        const reports = await ReportMailbox.open(caller, apis);
        await untilServing(child, () => caller.call(apis.main.rpcs.echo, { text: 'ready?', n: 0 }, { timeoutMs: 2000 }));
        return { reports, childReadyAt: performance.now() };
      })(),
      45_000,
      `starting lightbus run --workers ${WORKERS}`,
    );
    const redisPid = await this.localRedisPid();
    const cpu = new CpuMeter(child.pid, redisPid === undefined ? [] : [redisPid], cpus().length);
    return { runId: this.runId, redisUrl: this.redisUrl, redis: this.redis, tmpDir: this.tmpDir, apis, caller, child, childService, cpu, tracingSwitch, ...started };
  }

  /** Closes the caller, stops the child by pid, deletes this run's Redis keys, and the scratch directory unless something failed. Runs once. */
  finish(): Promise<{ keys: number; other: number } | undefined> {
    this.finishing ??= (async () => {
      if (this.caller) await withTimeout(this.caller.close(), 10_000, 'closing the caller bus').catch(() => undefined);
      if (this.child) await stopChild(this.child.pid);
      killAllChildren();
      const cleaned = await withTimeout(cleanUpRun(this.redis, this.runId), 15_000, 'cleaning up Redis').catch((error: Error) => {
        this.errors.push({ step: 'cleanup', error: error.message });
        return undefined;
      });
      this.redis.disconnect();
      if (this.errors.length === 0) rmSync(this.tmpDir, { recursive: true, force: true });
      else console.error(`bench: the child's log is kept in ${this.tmpDir}`);
      return cleaned;
    })();
    return this.finishing;
  }

  async abort(code: number): Promise<never> {
    this.aborting = true;
    killAllChildren();
    this.errors.push({ step: 'run', error: 'aborted' });
    await withTimeout(this.finish(), 20_000, 'cleanup').catch(() => undefined);
    process.exit(code);
  }

  async redisVersion(): Promise<string> {
    try {
      return /redis_version:(\S+)/.exec(await withTimeout(this.redis.info('server'), 5000, 'INFO'))?.[1] ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }

  /** redis-server's pid when it runs on this machine (its CPU time is then measured too). */
  private async localRedisPid(): Promise<number | undefined> {
    try {
      const pid = Number(/process_id:(\d+)/.exec(await withTimeout(this.redis.info('server'), 5000, 'INFO'))?.[1]);
      return readFileSync(`/proc/${pid}/comm`, 'utf8').includes('redis') ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Calls the child until it answers (a call made before it serves waits in Redis, but expires after 5 s). */
export async function untilServing(child: LightbusChild, call: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await Promise.race([call(), child.died]);
      return;
    } catch (error) {
      if (!child.alive() || Date.now() > deadline) throw new Error(`${(error as Error).message}\n${child.tail()}`);
    }
  }
}
