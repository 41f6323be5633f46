/**
 * How big each event stream is and how many entries were ever added to it (XINFO STREAM's
 * `entries-added`, Redis 7.0 and later), read in one pipeline. A reader that samples
 * `entriesAdded` over time gets the fired rate even while the stream is trimmed.
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import type { EventStream } from './streams.js';

export interface StreamStatRow {
  stream: string;
  api: string;
  /** Entries in the stream now (XLEN). */
  length: number;
  /** Every entry ever added, trimmed ones too; null before Redis 7.0. */
  entriesAdded: number | null;
  /** The newest entry's id ('0-0' for an empty stream). */
  lastId: string;
}

type Reply = Array<[Error | null, unknown]>;

/** One row per stream that still exists, in the order given. */
export async function describeStreams(redis: RedisConnection, streams: readonly EventStream[]): Promise<StreamStatRow[]> {
  if (streams.length === 0) return [];
  const infos = redis.pipeline();
  for (const s of streams) infos.xinfo('STREAM', s.key);
  const replies = ((await infos.exec()) ?? []) as Reply;
  const rows: StreamStatRow[] = [];
  streams.forEach((s, i) => {
    const [error, raw] = replies[i] ?? [new Error('no reply')];
    // Deleted since it was found: nothing to show.
    if (error) {
      if (/no such key/i.test(error.message)) return;
      throw error;
    }
    const info = pairs(raw as unknown[]);
    const added = info['entries-added'];
    rows.push({
      stream: s.key,
      api: s.api,
      length: Number(info['length'] ?? 0),
      entriesAdded: added === undefined || added === null ? null : Number(added),
      lastId: String(info['last-generated-id'] ?? '0-0'),
    });
  });
  return rows;
}

function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
