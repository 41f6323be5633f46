/**
 * The names of the per-API Redis keys, in one of two layouts (config `redis.keys`,
 * docs/scaling.md "Key layout"):
 *
 * - `python`: Python Lightbus's own names (docs/wire-format.md), so Python peers share the bus.
 *   Every key of an API, and every call's marker, hashes to a slot of its own on a cluster.
 * - `hash-tagged`: the same names behind `lightbus:{api}`, so that on a cluster all of one
 *   API's keys (queue, markers, streams) share the slot of the tag `{api}`: its scripts and
 *   multi-stream reads stay single-slot. Python peers do not know these names.
 *
 * Every transport, inspect and command that names a queue, marker or stream asks the one
 * layout of its config ({@link keyLayoutOf}); the readers of keys (inspect's scans) accept
 * both layouts ({@link parseQueueKey}, {@link parseStreamKey}), so an operator sees either.
 * Pure: no I/O.
 */
import { expiryMarkerKey, rpcQueueKey } from './rpc.js';
import { streamKey, type StreamLayout } from './events.js';

export type KeyLayoutName = 'python' | 'hash-tagged';

export interface KeyLayout {
  readonly name: KeyLayoutName;
  /** Whether every key of one API hashes to one slot (so one API's multi-key steps are single-slot on a cluster). */
  readonly apiInOneSlot: boolean;
  /** The list an API's calls are queued in. */
  rpcQueue(api: string): string;
  /** The key whose existence says a call to `api` has not expired yet. */
  expiryMarker(api: string, callId: string): string;
  /** What {@link expiryMarker} puts before the call id (the Lua scripts build marker keys from it). */
  expiryMarkerPrefix(api: string): string;
  /** The stream an event of `api` is written to. */
  stream(api: string, event: string, layout: StreamLayout): string;
}

/** Today's names, exactly those of the Python wire contract. */
export const PYTHON_KEYS: KeyLayout = Object.freeze({
  name: 'python',
  apiInOneSlot: false,
  rpcQueue: rpcQueueKey,
  expiryMarker: (_api: string, callId: string) => expiryMarkerKey(callId),
  expiryMarkerPrefix: () => expiryMarkerKey(''),
  stream: streamKey,
});

/** What every hash-tagged key starts with: the API name is the whole hash tag. */
function tagged(api: string): string {
  return `${HASH_TAGGED_PREFIX}{${api}}`;
}
const HASH_TAGGED_PREFIX = 'lightbus:';

/**
 * `lightbus:{auth}:rpc_queue`, `lightbus:{auth}:rpc_expiry_key:{id}`, `lightbus:{auth}.*:stream`,
 * `lightbus:{auth}.user_registered:stream`: the Python name with the API part as `lightbus:{api}`.
 * API names cannot hold braces (define.ts), so the tag is exactly the API name.
 */
export const HASH_TAGGED_KEYS: KeyLayout = Object.freeze({
  name: 'hash-tagged',
  apiInOneSlot: true,
  rpcQueue: (api: string) => rpcQueueKey(tagged(api)),
  expiryMarker: (api: string, callId: string) => `${tagged(api)}:${expiryMarkerKey(callId)}`,
  expiryMarkerPrefix: (api: string) => `${tagged(api)}:${expiryMarkerKey('')}`,
  stream: (api: string, event: string, layout: StreamLayout) => streamKey(tagged(api), event, layout),
});

/** The layout a Redis config names (default `python`). */
export function keyLayoutOf(redis: { keys?: KeyLayoutName | undefined }): KeyLayout {
  return redis.keys === 'hash-tagged' ? HASH_TAGGED_KEYS : PYTHON_KEYS;
}

/**
 * The hash tag Redis Cluster hashes a key by: the text between the first `{` and the first
 * `}` after it, when not empty; else undefined (the whole key is hashed).
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * What decides a key's slot: its hash tag, else the key itself. Keys with the same answer
 * share a slot (different answers may still collide; nothing here counts on that).
 */
export function slotGroup(key: string): string {
  const tag = hashTag(key);
  return tag === undefined ? key : `{${tag}}`;
}

/** Whether the keys surely share one slot, so one command or script may touch them all on a cluster. */
export function shareOneSlot(keys: readonly string[]): boolean {
  if (keys.length === 0) return true;
  const first = slotGroup(keys[0]!);
  return keys.every((key) => slotGroup(key) === first);
}

/** The API of a key in the hash-tagged layout, and the rest in Python's form (`{api}` + rest); undefined for other keys. */
function untagged(key: string): { api: string; rest: string } | undefined {
  if (!key.startsWith(`${HASH_TAGGED_PREFIX}{`)) return undefined;
  const close = key.indexOf('}', HASH_TAGGED_PREFIX.length + 1);
  if (close < 0) return undefined;
  const api = key.slice(HASH_TAGGED_PREFIX.length + 1, close);
  return api === '' ? undefined : { api, rest: key.slice(close + 1) };
}

const RPC_QUEUE_SUFFIX = rpcQueueKey('');

/** The API of an RPC queue key of either layout, or undefined when the key names no queue. */
export function parseQueueKey(key: string): string | undefined {
  if (!key.endsWith(RPC_QUEUE_SUFFIX)) return undefined;
  const tagged = untagged(key);
  const api = tagged ? (tagged.rest === RPC_QUEUE_SUFFIX ? tagged.api : '') : key.slice(0, -RPC_QUEUE_SUFFIX.length);
  return api === '' ? undefined : api;
}

const STREAM_SUFFIX = ':stream';

/** The API and (per_event) event of a stream key of either layout, or undefined when it names no event stream. */
export function parseStreamKey(key: string): { api: string; event: string | undefined } | undefined {
  if (!key.endsWith(STREAM_SUFFIX)) return undefined;
  const tagged = untagged(key);
  if (tagged) {
    const member = tagged.rest.slice(0, -STREAM_SUFFIX.length);
    if (member === '.*') return { api: tagged.api, event: undefined };
    return /^\.[^.]+$/.test(member) ? { api: tagged.api, event: member.slice(1) } : undefined;
  }
  const base = key.slice(0, -STREAM_SUFFIX.length);
  if (base.endsWith('.*')) return base.length > 2 ? { api: base.slice(0, -2), event: undefined } : undefined;
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || dot === base.length - 1) return undefined;
  return { api: base.slice(0, dot), event: base.slice(dot + 1) };
}
