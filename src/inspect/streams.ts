/**
 * Finding the keys of the bus in Redis: event streams (`{api}.*:stream` per API,
 * `{api}.{event}:stream` per event) and RPC queues (`{api}:rpc_queue`), with Python's names or
 * the hash-tagged ones (`lightbus:{api}:rpc_queue` ..., key-layout.ts), by SCAN (never KEYS,
 * which blocks the server while it walks every key). The scan globs match both layouts.
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import type { StreamLayout } from '../transport/wire/events.js';
import { parseQueueKey, parseStreamKey as parseLayoutStreamKey, PYTHON_KEYS, type KeyLayout } from '../transport/wire/key-layout.js';
import { matchesApi, type MemberPattern } from './patterns.js';

/** An event stream and what its name says it carries. */
export interface EventStream {
  key: string;
  api: string;
  /** The event of a `per_event` stream; undefined for a `per_api` stream (all the API's events). */
  event: string | undefined;
}

const STREAM_SUFFIX = ':stream';
/** What every RPC queue key ends with, in either layout. */
const RPC_QUEUE_SUFFIX = ':rpc_queue';
const SCAN_COUNT = 1000;
/** A guard only: SCAN ends when its cursor comes back to 0. */
const MAX_SCAN_CALLS = 1_000_000;

/** Reads a stream key as the event stream it names, or undefined when it names none. */
export function parseStreamKey(key: string): EventStream | undefined {
  const parsed = parseLayoutStreamKey(key);
  return parsed && { key, ...parsed };
}

/** Whether a stream may hold events that match one of the patterns (no patterns: every stream). */
export function streamMayMatch(stream: EventStream, patterns: readonly MemberPattern[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => p.api.test(stream.api) && (stream.event === undefined || p.member.test(stream.event)));
}

/** Every key matching a glob (and of a type), sorted. */
export async function scanKeys(redis: RedisConnection, match: string, type: 'stream' | 'list'): Promise<string[]> {
  const keys = new Set<string>();
  // A cluster's SCAN sees one node: every master is scanned.
  const servers = 'nodes' in redis ? redis.nodes('master') : [redis];
  for (const server of servers) {
    let cursor = '0';
    for (let calls = 0; calls < MAX_SCAN_CALLS; calls++) {
      const [next, batch] = await server.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT, 'TYPE', type);
      for (const key of batch) keys.add(key);
      cursor = next;
      if (cursor === '0') break;
    }
  }
  return [...keys].sort();
}

/**
 * The event streams in Redis that may hold events matching the patterns, sorted by key. The
 * dead-letter stream is not an event stream and is left out.
 */
export async function findEventStreams(redis: RedisConnection, patterns: readonly MemberPattern[], deadLetterStream: string): Promise<EventStream[]> {
  const out: EventStream[] = [];
  for (const key of await scanKeys(redis, `*${STREAM_SUFFIX}`, 'stream')) {
    if (key === deadLetterStream) continue;
    const stream = parseStreamKey(key);
    if (stream && streamMayMatch(stream, patterns)) out.push(stream);
  }
  return out;
}

/**
 * The streams the patterns name exactly (an API without wildcard; with the `per_event` layout
 * also the event), whether or not they exist yet: a follower blocks on them so their first
 * event wakes it.
 */
export function namedStreams(patterns: readonly MemberPattern[], layout: StreamLayout, keys: KeyLayout = PYTHON_KEYS): EventStream[] {
  const out = new Map<string, EventStream>();
  for (const p of patterns) {
    if (p.exactApi === undefined) continue;
    if (layout === 'per_api') {
      const key = keys.stream(p.exactApi, '*', layout);
      out.set(key, { key, api: p.exactApi, event: undefined });
    } else if (p.exactMember !== undefined) {
      const key = keys.stream(p.exactApi, p.exactMember, layout);
      out.set(key, { key, api: p.exactApi, event: p.exactMember });
    }
  }
  return [...out.values()];
}

/** An RPC queue and the API it belongs to. */
export interface RpcQueueKey {
  key: string;
  api: string;
}

/** The RPC queues that exist (a queue with no calls waiting has no key), for APIs matching the patterns. */
export async function findRpcQueues(redis: RedisConnection, patterns: readonly MemberPattern[]): Promise<RpcQueueKey[]> {
  return (await scanKeys(redis, `*${RPC_QUEUE_SUFFIX}`, 'list'))
    .map((key) => ({ key, api: parseQueueKey(key) ?? '' }))
    .filter(({ api }) => api !== '' && matchesApi(patterns, api));
}
