/**
 * `XINFO` for many streams at once (one command each: {@link eachKey}), and its flat field/value replies as objects:
 * shared by the group and stream-statistics reads.
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import { eachKey } from './each-key.js';
import type { EventStream } from './streams.js';

/** The `XINFO {sub}` reply per stream, in order; `undefined` for a stream deleted since it was found. */
export async function xinfoOfStreams(redis: RedisConnection, sub: 'STREAM' | 'GROUPS', streams: readonly EventStream[]): Promise<unknown[]> {
  if (streams.length === 0) return [];
  const replies = await eachKey(streams, (s) => redis.xinfo(sub as 'STREAM', s.key));
  return streams.map((_, i) => {
    const [error, raw] = replies[i] ?? [new Error('no reply')];
    if (!error) return raw;
    if (/no such key/i.test(error.message)) return undefined;
    throw error;
  });
}

/** `[field, value, field, value...]` as an object. */
export function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
