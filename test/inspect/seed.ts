/**
 * Seeding the shared Redis for inspect tests: a plain connection, event entries in the wire
 * format, and a record of every key written so that exactly those are deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { encodeEvent } from '../../src/transport/wire/events.js';

export const REDIS_URL = 'redis://127.0.0.1:6379/0';

export class Seed {
  readonly redis = new Redis(REDIS_URL);
  private readonly keys = new Set<string>();
  private readonly schemaApis = new Set<string>();
  private readonly processFields = new Set<string>();

  /** Marks a key as ours, to delete at the end (for keys written by the code under test). */
  own(...keys: string[]): void {
    for (const key of keys) this.keys.add(key);
  }

  /** Adds an event entry; `id` is the stream id to use (default `*`). Returns the stream id. */
  async event(stream: string, api: string, event: string, params: Record<string, unknown>, options: { streamId?: string; messageId?: string } = {}): Promise<string> {
    this.own(stream);
    const fields = encodeEvent({ id: options.messageId ?? randomUUID(), api, event, version: 1, kwargs: params });
    return (await this.redis.xadd(stream, options.streamId ?? '*', ...fields)) as string;
  }

  /** Adds a raw entry (malformed or noop). */
  async raw(stream: string, fields: string[], streamId = '*'): Promise<string> {
    this.own(stream);
    return (await this.redis.xadd(stream, streamId, ...fields)) as string;
  }

  async schema(api: string, schema: unknown): Promise<void> {
    this.schemaApis.add(api);
    await this.redis.set(`schema:${api}`, JSON.stringify(schema), 'PX', 60_000);
    await this.redis.sadd('schemas', api);
  }

  /** Writes a heartbeat into `lightbus:processes`. */
  async heartbeat(info: { service: string; process: string; apis?: string[]; listeners?: string[]; lastSeenAgoMs?: number; intervalMs?: number }): Promise<void> {
    const field = `${info.service}:${info.process}`;
    this.processFields.add(field);
    const lastSeen = Date.now() - (info.lastSeenAgoMs ?? 0);
    await this.redis.hset(
      'lightbus:processes',
      field,
      JSON.stringify({
        service: info.service,
        process: info.process,
        host: 'test-host',
        pid: 4242,
        version: '0.0.0-test',
        apis: info.apis ?? [],
        listeners: info.listeners ?? [],
        workers: 2,
        startedAt: new Date(lastSeen - 60_000).toISOString(),
        lastSeen: new Date(lastSeen).toISOString(),
        intervalMs: info.intervalMs ?? 5000,
      }),
    );
  }

  /** Deletes every key, schema and heartbeat this seed wrote, and disconnects. */
  async cleanup(): Promise<void> {
    const keys = [...this.keys, ...[...this.schemaApis].map((api) => `schema:${api}`)];
    if (keys.length > 0) await this.redis.del(...keys);
    if (this.schemaApis.size > 0) await this.redis.srem('schemas', ...this.schemaApis);
    if (this.processFields.size > 0) await this.redis.hdel('lightbus:processes', ...this.processFields);
    this.redis.disconnect();
  }
}
