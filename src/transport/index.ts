/**
 * Builds the transports a bus process owns from its configuration: all over Redis, or all in
 * memory (one process only; tests and local experiments).
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { MemoryEventTransport } from './memory/event-transport.js';
import { MemoryResultTransport } from './memory/result-transport.js';
import { MemoryRpcStore } from './memory/rpc-store.js';
import { MemoryRpcTransport } from './memory/rpc-transport.js';
import { MemorySchemaTransport } from './memory/schema-transport.js';
import { MemoryPresenceTransport } from './memory/presence-transport.js';
import type { MemoryStore } from './memory/store.js';
import { RedisEventTransport } from './redis/event-transport.js';
import { RedisResultTransport } from './redis/result-transport.js';
import { RedisRpcTransport } from './redis/rpc-transport.js';
import { RedisSchemaTransport } from './redis/schema-transport.js';
import { RedisPresenceTransport } from './redis/presence-transport.js';
import { stalledReads } from './redis/read-deadline.js';
import type { EventTransport, PresenceTransport, ResultTransport, RpcTransport, SchemaTransport, StalledRead, Transports } from './types.js';

export type * from './types.js';

/**
 * The RPC, result, event and schema transports for `config.transport`.
 *
 * @param memoryStore with the memory transport, the store standing for "the Redis server":
 *   buses given the same store see each other's calls, results, events and schemas, as
 *   processes sharing a Redis would. Without it the transports get a private one. Ignored
 *   with the Redis transport.
 */
export function createTransports(config: ResolvedConfig, logger: Logger, memoryStore?: MemoryStore): Transports {
  const { serviceName, processName } = config;
  if (config.transport === 'memory') {
    const store = memoryStore ? MemoryRpcStore.of(memoryStore) : new MemoryRpcStore();
    return bundle({
      rpc: new MemoryRpcTransport({ logger, store }),
      result: new MemoryResultTransport({ rpc: config.rpc, logger, serviceName, processName, store }),
      event: new MemoryEventTransport({ events: config.events, logger, store: memoryStore }),
      schema: new MemorySchemaTransport({ logger, store }),
      presence: new MemoryPresenceTransport(store),
    });
  }
  return bundle({
    rpc: new RedisRpcTransport({ redis: config.redis, logger }),
    result: new RedisResultTransport({ redis: config.redis, rpc: config.rpc, logger, serviceName, processName }),
    event: new RedisEventTransport({ redis: config.redis, events: config.events, logger }),
    schema: new RedisSchemaTransport({ redis: config.redis, logger }),
    presence: new RedisPresenceTransport({ redis: config.redis, logger }),
    stalledReads,
  });
}

function bundle(parts: {
  rpc: RpcTransport;
  result: ResultTransport;
  event: EventTransport;
  schema: SchemaTransport;
  presence: PresenceTransport;
  stalledReads?: () => StalledRead[];
}): Transports {
  let closing: Promise<void> | undefined;
  return {
    ...parts,
    close() {
      // Every transport is closed even when another one fails to; the first failure is reported.
      closing ??= Promise.allSettled([parts.rpc.close(), parts.result.close(), parts.event.close(), parts.schema.close(), parts.presence.close()]).then(
        (outcomes) => {
          const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
          if (failed) throw failed.reason;
        },
      );
      return closing;
    },
  };
}
