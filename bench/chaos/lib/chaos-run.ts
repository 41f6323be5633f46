/**
 * What every chaos scenario shares: a private `redis-server` (free loopback port, AOF with
 * `appendfsync always`, its own directory; stopped by pid), a scratch directory with the
 * durable records of handled keys, the `lightbus run` processes of the scenario (each can be
 * SIGKILLed and started again), and bounded waits that answer false rather than throw.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';
import { killChild, spawnLightbus, stopChild, type LightbusChild } from '../../lib/children.js';
import { sleep } from '../../lib/measure.js';

export const DEAD_LETTER_STREAM = 'lightbus:dead_letter:stream';
export type Role = 'events' | 'rpc' | 'flood' | 'slow';

export interface ServiceSettings {
  /** `events.acknowledgementTimeoutMs`: how soon a killed process's entries are taken over. */
  acknowledgementTimeoutMs?: number;
  batchSize?: number;
  shutdownGraceMs?: number;
  poisonPercent?: number;
  slowMs?: number;
}

/** One `lightbus run` of a scenario, restartable: a kill or a stop leaves its place free for the next start. */
export class ServiceProcess {
  child: LightbusChild;
  starts = 0;
  private readonly logs: string[] = [];

  constructor(
    private readonly run: ChaosRun,
    private readonly label: string,
    private readonly configPath: string,
    private readonly env: Record<string, string>,
  ) {
    this.child = this.spawn();
  }

  private spawn(): LightbusChild {
    const logPath = join(this.run.tmpDir, `${this.label}-${this.starts++}.log`);
    this.logs.push(logPath);
    return spawnLightbus({ module: 'bench/chaos/fixtures/chaos-bus.ts', workers: 2, configPath: this.configPath, env: this.env, logPath });
  }

  /** SIGKILL, then a new process in its place (not waited for: the chaos goes on). */
  async killAndRestart(): Promise<void> {
    await killChild(this.child.pid);
    if (!this.run.closed) this.child = this.spawn();
  }

  /** SIGTERM (graceful stop); resolves with how it ended and how long it took. */
  async terminate(graceMs: number): Promise<{ how: string; ms: number }> {
    const started = Date.now();
    const how = await stopChild(this.child.pid, graceMs);
    return { how, ms: Date.now() - started };
  }

  restart(): void {
    this.child = this.spawn();
  }

  /** Bytes, lines and stack traces in every log this service wrote. */
  logVolume(): { bytes: number; lines: number; stacks: number } {
    let bytes = 0;
    let lines = 0;
    let stacks = 0;
    for (const path of this.logs) {
      let text = '';
      try {
        bytes += statSync(path).size;
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      lines += text.split('\n').filter(Boolean).length;
      stacks += text.split('"stack":').length - 1;
    }
    return { bytes, lines, stacks };
  }

  logPaths(): string[] {
    return [...this.logs];
  }
}

export class ChaosRun {
  readonly prefix = `lbchaos_${randomUUID().slice(0, 8)}`;
  readonly tmpDir = mkdtempSync(join(tmpdir(), 'lightbus-chaos-'));
  readonly recordDir = join(this.tmpDir, 'handled');
  readonly services: ServiceProcess[] = [];
  closed = false;
  /** A plain client for checks; it reconnects by itself after a Redis restart. */
  readonly client: Redis;

  private constructor(readonly redis: RedisServer) {
    mkdirSync(this.recordDir);
    this.client = new Redis(redis.url, { maxRetriesPerRequest: 5, retryStrategy: () => 100 });
    this.client.on('error', () => undefined);
  }

  static async open(): Promise<ChaosRun> {
    const aofDir = mkdtempSync(join(tmpdir(), 'lightbus-chaos-aof-'));
    const redis = await startRedisServer({ aofDir, startTimeoutMs: 30_000 });
    const run = new ChaosRun(redis);
    run.aofDir = aofDir;
    return run;
  }

  private aofDir = '';

  get redisUrl(): string {
    return this.redis.url;
  }

  /** Starts a `lightbus run --workers 2` of chaos-bus.ts in the given role. */
  startService(role: Role, label: string, settings: ServiceSettings = {}): ServiceProcess {
    const configPath = join(this.tmpDir, `config-${label}.json`);
    const config = {
      serviceName: `${this.prefix}_${role}`,
      redis: { url: this.redisUrl },
      logLevel: 'warn',
      events: {
        acknowledgementTimeoutMs: settings.acknowledgementTimeoutMs ?? 5000,
        ...(settings.batchSize ? { batchSize: settings.batchSize } : {}),
      },
      ...(settings.shutdownGraceMs ? { runner: { shutdownGraceMs: settings.shutdownGraceMs } } : {}),
    };
    writeFileSync(configPath, JSON.stringify(config));
    const env = {
      CHAOS_PREFIX: this.prefix,
      CHAOS_ROLE: role,
      CHAOS_RECORD_DIR: this.recordDir,
      CHAOS_POISON_PERCENT: String(settings.poisonPercent ?? 0),
      CHAOS_SLOW_MS: String(settings.slowMs ?? 100),
    };
    const service = new ServiceProcess(this, label, configPath, env);
    this.services.push(service);
    return service;
  }

  /** Waits until the process with this pid wrote a heartbeat naming a listener or an API. */
  async untilRegistered(child: LightbusChild, timeoutMs: number): Promise<boolean> {
    return until(async () => {
      if (!child.alive()) return false;
      const beats = await this.client.hvals('lightbus:processes').catch(() => []);
      return beats.some((json) => {
        const info = JSON.parse(json) as { pid: number; apis: unknown[]; listeners: unknown[] };
        return info.pid === child.pid && info.apis.length + info.listeners.length > 0;
      });
    }, timeoutMs);
  }

  /** How many times each key was handled, from every worker's record file. */
  handled(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const file of readdirSync(this.recordDir)) {
      for (const key of readFileSync(join(this.recordDir, file), 'utf8').split('\n')) {
        if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** The dead letters from `stream`: how many, and the `key` parameter of each that has one. */
  async deadLetters(stream: string): Promise<{ count: number; keys: Map<string, number>; reasons: Map<string, number> }> {
    const keys = new Map<string, number>();
    const reasons = new Map<string, number>();
    let count = 0;
    let start = '-';
    for (;;) {
      const page = await this.client.xrange(DEAD_LETTER_STREAM, start, '+', 'COUNT', 200);
      for (const [, fields] of page) {
        const letter = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) letter.set(fields[i]!, fields[i + 1]!);
        if (letter.get('stream') !== stream) continue;
        count++;
        const reason = (letter.get('reason') ?? '').replace(/[":].*$/s, '').trim();
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        const key = keyOf(letter.get('fields') ?? '[]');
        if (key !== undefined) keys.set(key, (keys.get(key) ?? 0) + 1);
      }
      if (page.length < 200) break;
      start = `(${page[page.length - 1]![0]}`;
    }
    return { count, keys, reasons };
  }

  /** Entries of `group` on `stream` read and not acknowledged (XPENDING summary). */
  async pending(stream: string, group: string): Promise<number> {
    const summary = (await this.client.xpending(stream, group)) as [number, ...unknown[]];
    return Number(summary[0]);
  }

  /** Stops every service by pid, then Redis; removes the scratch directories unless asked to keep them. */
  async close(keep: boolean): Promise<void> {
    this.closed = true;
    await Promise.all(this.services.map((service) => stopChild(service.child.pid, 5000)));
    this.client.disconnect();
    await this.redis.stop();
    rmSync(this.aofDir, { recursive: true, force: true });
    if (!keep) rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/** The `key` parameter in a dead letter's original field list, if it has a readable one. */
function keyOf(fieldsJson: string): string | undefined {
  try {
    const fields = JSON.parse(fieldsJson) as string[];
    const at = fields.indexOf(':key');
    if (at < 0 || at % 2 !== 0) return undefined;
    const value = JSON.parse(fields[at + 1]!) as unknown;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `condition` until it holds (true) or `timeoutMs` passes (false); errors count as "not yet". */
export async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return true;
    } catch {
      // Redis may be restarting.
    }
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
