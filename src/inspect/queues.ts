/**
 * RPC queue depths: calls waiting in `{api}:rpc_queue` (`lightbus:{api}:rpc_queue` with the
 * hash-tagged keys) for a server to take them. A queue that grows while its API's servers are
 * live means they cannot keep up; one that grows with no live server means nobody is there
 * (and callers are timing out).
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import { PYTHON_KEYS, type KeyLayout } from '../transport/wire/key-layout.js';
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
  keys: KeyLayout = PYTHON_KEYS,
): Promise<QueueRow[]> {
  // A queue found keeps its own name (either layout); a known API's empty queue is named by `keys`.
  const queueOf = new Map((await findRpcQueues(redis, patterns)).map(({ api, key }) => [api, key]));
  for (const api of knownApis) if (matchesApi(patterns, api) && !queueOf.has(api)) queueOf.set(api, keys.rpcQueue(api));
  const sorted = [...queueOf.keys()].sort();
  const replies = await eachKey(sorted, (api) => redis.llen(queueOf.get(api)!));
  return sorted
    .map((api, i) => {
      const [error, depth] = replies[i] ?? [new Error('no reply')];
      if (error) throw error;
      return { api, key: queueOf.get(api)!, depth: Number(depth), servedBy: servers(processes, api) };
    })
    .sort((a, b) => b.depth - a.depth || a.api.localeCompare(b.api));
}
