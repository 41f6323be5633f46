/**
 * How big each event stream is and how many entries were ever added to it (XINFO STREAM's
 * `entries-added`, Redis 7.0 and later), read with one command per stream, sent together. A reader that samples
 * `entriesAdded` over time gets the fired rate even while the stream is trimmed.
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import type { EventStream } from './streams.js';
import { pairs, xinfoOfStreams } from './xinfo.js';

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

/** One row per stream that still exists, in the order given. */
export async function describeStreams(redis: RedisConnection, streams: readonly EventStream[]): Promise<StreamStatRow[]> {
  const replies = await xinfoOfStreams(redis, 'STREAM', streams);
  const rows: StreamStatRow[] = [];
  streams.forEach((s, i) => {
    const raw = replies[i];
    // Deleted since it was found: nothing to show.
    if (raw === undefined) return;
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
