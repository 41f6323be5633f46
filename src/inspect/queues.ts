/**
 * RPC queue depths: calls waiting in `{api}:rpc_queue` for a server to take them. A queue that
 * grows while its API's servers are live means they cannot keep up; one that grows with no
 * live server means nobody is there (and callers are timing out).
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import { rpcQueueKey } from '../transport/wire/rpc.js';
import { servers, type Server } from './apis.js';
import { eachKey } from './each-key.js';
import { matchesApi, type MemberPattern } from './patterns.js';
import type { ProcessRow } from './processes.js';
import { findRpcQueues } from './streams.js';

export interface QueueRow {
  api: string;
  key: string;
  /** Calls waiting (LLEN). */
  depth: number;
  servedBy: Server[];
}

/**
 * Every queue that has calls waiting, plus the (empty) queues of the APIs in `knownApis` (those
 * with a schema or a server), for APIs matching the patterns; deepest first, then by name.
 */
export async function listQueues(
  redis: RedisConnection,
  processes: readonly ProcessRow[],
  knownApis: readonly string[],
  patterns: readonly MemberPattern[] = [],
): Promise<QueueRow[]> {
  const apis = new Set((await findRpcQueues(redis, patterns)).map(({ api }) => api));
  for (const api of knownApis) if (matchesApi(patterns, api)) apis.add(api);
  const sorted = [...apis].sort();
  const replies = await eachKey(sorted, (api) => redis.llen(rpcQueueKey(api)));
  return sorted
    .map((api, i) => {
      const [error, depth] = replies[i] ?? [new Error('no reply')];
      if (error) throw error;
      return { api, key: rpcQueueKey(api), depth: Number(depth), servedBy: servers(processes, api) };
    })
    .sort((a, b) => b.depth - a.depth || a.api.localeCompare(b.api));
}
