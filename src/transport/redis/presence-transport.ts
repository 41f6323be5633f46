/**
 * Process heartbeats in one Redis hash, `lightbus:processes`, field `{service}:{process}`,
 * value the JSON of a {@link ProcessInfo}. Not part of the Python wire contract: Python peers
 * neither write nor read it. Entries silent for a day are pruned by readers.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { PresenceTransport, ProcessInfo } from '../types.js';
import { closeConnection, createConnection, type RedisConnection } from './connection.js';

export const PROCESSES_KEY = 'lightbus:processes';
const PRUNE_AFTER_MS = 24 * 3600 * 1000;

export class RedisPresenceTransport implements PresenceTransport {
  private connection: RedisConnection | undefined;
  private closed = false;

  /** @param options.replicaReads reads may go to a replica (inspect, with redis.cluster.scaleReads). */
  constructor(private readonly options: { redis: ResolvedConfig['redis']; logger: Logger; replicaReads?: boolean }) {}

  async beat(info: ProcessInfo): Promise<void> {
    await this.redis().hset(PROCESSES_KEY, `${info.service}:${info.process}`, JSON.stringify(info));
  }

  async leave(service: string, process: string): Promise<void> {
    await this.redis().hdel(PROCESSES_KEY, `${service}:${process}`);
  }

  async list(): Promise<ProcessInfo[]> {
    const entries = await this.redis().hgetall(PROCESSES_KEY);
    const now = Date.now();
    const out: ProcessInfo[] = [];
    const stale: string[] = [];
    for (const [field, json] of Object.entries(entries)) {
      try {
        const info = JSON.parse(json) as ProcessInfo;
        if (now - Date.parse(info.lastSeen) > PRUNE_AFTER_MS) stale.push(field);
        else out.push(info);
      } catch {
        stale.push(field);
      }
    }
    if (stale.length > 0) await this.redis().hdel(PROCESSES_KEY, ...stale);
    return out.sort((a, b) => `${a.service}:${a.process}`.localeCompare(`${b.service}:${b.process}`));
  }

  async ping(): Promise<void> {
    await this.redis().ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connection) await closeConnection(this.connection, false);
  }

  private redis(): RedisConnection {
    // After close a write would open a connection that nothing closes, and that keeps the process alive.
    if (this.closed) throw new BusClosedError('The presence transport is closed');
    this.connection ??= createConnection({ redis: this.options.redis, logger: this.options.logger, role: 'presence', replicaReads: this.options.replicaReads ?? false });
    return this.connection;
  }
}
