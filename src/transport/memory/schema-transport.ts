/**
 * API schemas within one process, with the Redis transport's semantics: each stored schema
 * lives for its TTL, and `load` returns the ones still alive.
 */
import type { Logger } from 'pino';
import { BusClosedError } from '../../errors.js';
import type { SchemaTransport } from '../types.js';
import { decodeSchema, encodeSchema } from '../wire/schemas.js';
import { MemoryRpcStore } from './rpc-store.js';

/** What {@link MemorySchemaTransport} needs: where to log, the shared store. */
export interface MemorySchemaTransportOptions {
  logger: Logger;
  store?: MemoryRpcStore;
}

/** Publishes and reads API schemas in a {@link MemoryRpcStore}. */
export class MemorySchemaTransport implements SchemaTransport {
  private readonly memory: MemoryRpcStore;
  private closed = false;

  constructor(private readonly options: MemorySchemaTransportOptions) {
    this.memory = options.store ?? new MemoryRpcStore();
  }

  async store(api: string, schema: unknown, ttlMs: number): Promise<void> {
    this.assertOpen();
    this.memory.setSchema(api, encodeSchema(schema), ttlMs);
  }

  async load(): Promise<Record<string, unknown>> {
    this.assertOpen();
    const schemas: Record<string, unknown> = {};
    for (const [api, json] of this.memory.liveSchemas()) {
      const decoded = decodeSchema(json);
      if ('malformed' in decoded) this.options.logger.warn({ api, reason: decoded.malformed }, 'skipped an unreadable schema');
      else schemas[api] = decoded.schema;
    }
    return schemas;
  }

  async has(api: string): Promise<boolean> {
    this.assertOpen();
    return this.memory.hasSchema(api);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError('The schema transport is closed');
  }
}
