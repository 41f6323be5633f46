/**
 * The RPC and event conformance suites registered against a Redis topology the test file
 * started itself (a Cluster or Sentinel): the same suites as on one server, with the bus's
 * config for that topology (its `redis.keys` too) and a raw client of the same kind for the
 * harness's own reads and writes.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { ResolvedConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import { RedisResultTransport } from '../../src/transport/redis/result-transport.js';
import { RedisRpcTransport } from '../../src/transport/redis/rpc-transport.js';
import { RedisSchemaTransport } from '../../src/transport/redis/schema-transport.js';
import type { EventTransport } from '../../src/transport/types.js';
import { SCHEMA_SET_KEY, schemaKey } from '../../src/transport/wire/schemas.js';
import { keyLayoutOf } from '../../src/transport/wire/key-layout.js';
import { eventConformance, type EventHarness, type EventsConfig } from './event-conformance.js';
import { capturingLogger, rpcConformance, type RpcHarness } from './rpc-conformance.js';

/**
 * @param forget on a shared server: deletes the keys of the given APIs once a test is done
 *   (a cluster or Sentinel started for the file goes with its keys).
 */
export function registerConformance(name: string, redis: ResolvedConfig['redis'], raw: Redis | Cluster, forget?: (apis: string[]) => Promise<void>): void {
  const prefix = `t_${randomUUID().slice(0, 8)}`;
  let apiCount = 0;
  const keys = keyLayoutOf(redis);

  rpcConformance(name, async (settings): Promise<RpcHarness> => {
    const { logger, records } = capturingLogger();
    const apis: string[] = [];
    const rpc = new RedisRpcTransport({ redis, logger });
    const result = new RedisResultTransport({ redis, rpc: settings, logger, serviceName: `${prefix}_svc`, processName: 'proc' });
    const schema = new RedisSchemaTransport({ redis, logger });
    return {
      rpc,
      result,
      schema,
      records,
      newApi: () => {
        const api = `${prefix}_api${apiCount++}`;
        apis.push(api);
        return api;
      },
      async pushRawCall(api, blob, markerId) {
        if (markerId) await raw.set(keys.expiryMarker(api, markerId), '1', 'EX', 5);
        await raw.rpush(keys.rpcQueue(api), blob);
      },
      async pushRawResult(returnPath, blob) {
        await raw.lpush(returnPath.slice('redis+key://'.length), blob);
      },
      async forgetSchema(api) {
        await raw.srem(SCHEMA_SET_KEY, api);
        await raw.del(schemaKey(api));
      },
      async close() {
        await Promise.all([rpc.close(), result.close(), schema.close()]);
        await forget?.(apis);
      },
    };
  });

  eventConformance(name, async (api): Promise<EventHarness> => {
    const transports: EventTransport[] = [];
    return {
      keys,
      transport(events: EventsConfig, logger = silentLogger()) {
        const transport = new RedisEventTransport({ redis, events, logger });
        transports.push(transport);
        return transport;
      },
      async appendRaw(stream, fields) {
        return (await raw.xadd(stream, '*', ...fields)) as string;
      },
      async readStream(stream) {
        return (await raw.xrange(stream, '-', '+')).map(([streamId, fields]) => ({ streamId, fields }));
      },
      async pending(stream, group) {
        const rows = (await raw.xpending(stream, group, '-', '+', 1000)) as Array<[string, string, number, number]>;
        return rows.map(([streamId, consumer, , deliveries]) => ({ streamId, consumer, deliveries }));
      },
      async deleteStream(stream) {
        await raw.del(stream);
      },
      async close() {
        await Promise.all(transports.map((transport) => transport.close()));
        await forget?.([api]);
      },
    };
  });
}
