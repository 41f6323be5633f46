/**
 * API schemas in Redis (docs/wire-format.md, "Schemas"): `schema:{api}` keys with a TTL, listed in
 * the `schemas` set. An API whose key expired stays in the set; readers skip it.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { SchemaTransport } from '../types.js';
import { decodeSchema, encodeSchema, SCHEMA_SET_KEY, schemaKey } from '../wire/schemas.js';
import { closeConnection, createConnection, type RedisConnection } from './connection.js';
import { isClusterConfig } from './topology.js';

/** What {@link RedisSchemaTransport} needs: where Redis is and where to log. */
export interface RedisSchemaTransportOptions {
  redis: ResolvedConfig['redis'];
  logger: Logger;
  /** Reads may go to a replica (inspect, with redis.cluster.scaleReads). */
  replicaReads?: boolean;
}

const LOGGED_BLOB_CHARS = 500;

/** Publishes and reads API schemas in Redis, on a non-blocking connection opened on first use. */
export class RedisSchemaTransport implements SchemaTransport {
  private connection: RedisConnection | undefined;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: RedisSchemaTransportOptions) {
    this.logger = options.logger.child({ component: 'schemas' });
  }

  /** Publishes one API's schema for `ttlMs` (`SET ... PX` is the contract's SET + EXPIRE in one command). */
  async store(api: string, schema: unknown, ttlMs: number): Promise<void> {
    const redis = this.redis();
    const ttl = Math.max(1, Math.round(ttlMs));
    if (isClusterConfig(this.options.redis)) {
      // The key and the set are in different slots: two commands, which a pipeline on a cluster refuses.
      await Promise.all([redis.set(schemaKey(api), encodeSchema(schema), 'PX', ttl), redis.sadd(SCHEMA_SET_KEY, api)]);
      return;
    }
    const results = await redis.pipeline().set(schemaKey(api), encodeSchema(schema), 'PX', ttl).sadd(SCHEMA_SET_KEY, api).exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (!results || failure) throw failure ?? new Error('Redis pipeline storing a schema was aborted');
  }

  /** Every schema still published, by API name; expired and unreadable ones are left out. */
  async load(): Promise<Record<string, unknown>> {
    const redis = this.redis();
    const apis = (await redis.smembers(SCHEMA_SET_KEY)).sort();
    if (apis.length === 0) return {};
    // An MGET of keys in several slots fails on a cluster: one GET each there.
    const values = isClusterConfig(this.options.redis)
      ? await Promise.all(apis.map((api) => redis.get(schemaKey(api))))
      : await redis.mget(...apis.map(schemaKey));
    const schemas: Record<string, unknown> = {};
    apis.forEach((api, index) => {
      const json = values[index];
      if (json === null || json === undefined) return;
      const decoded = decodeSchema(json);
      if ('malformed' in decoded) {
        this.logger.warn({ api, reason: decoded.malformed, value: json.slice(0, LOGGED_BLOB_CHARS) }, 'skipped an unreadable schema');
        return;
      }
      schemas[api] = decoded.schema;
    });
    return schemas;
  }

  /** `EXISTS schema:{api}`: the key lives as long as its TTL, whoever wrote it (a Python server too). */
  async has(api: string): Promise<boolean> {
    return (await this.redis().exists(schemaKey(api))) === 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connection) await closeConnection(this.connection, false);
  }

  private redis(): RedisConnection {
    if (this.closed) throw new BusClosedError('The schema transport is closed');
    this.connection ??= createConnection({ redis: this.options.redis, logger: this.logger, role: 'schemas', replicaReads: this.options.replicaReads ?? false });
    return this.connection;
  }
}
