/**
 * Consumer groups per event stream (XINFO GROUPS, XINFO CONSUMERS): how far behind each
 * listener is (lag), what it holds unacknowledged (pending) and which consumers are idle. A
 * group's name is `{service}-{listener}`; a consumer's is a process name.
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import { eachKey } from './each-key.js';
import { globToRegExp } from './patterns.js';
import type { EventStream } from './streams.js';
import { pairs, xinfoOfStreams } from './xinfo.js';

export interface ConsumerRow {
  name: string;
  /** Entries delivered to it and not acknowledged yet. */
  pending: number;
  /** Since its last attempted interaction (read or claim). */
  idleMs: number;
  /** Since its last successful interaction; Redis 7.2 and later only. */
  inactiveMs: number | null;
}

export interface GroupRow {
  stream: string;
  group: string;
  /** Delivered to some consumer and not acknowledged yet. */
  pending: number;
  /** Entries in the stream not delivered to the group yet; null when Redis cannot tell (before 7.0, or after deletions). */
  lag: number | null;
  lastDeliveredId: string;
  entriesRead: number | null;
  consumers: ConsumerRow[];
}


/** Every group of the streams (those whose name matches `groupGlob` when given), by stream then group. */
export async function listGroups(redis: RedisConnection, streams: readonly EventStream[], groupGlob?: string): Promise<GroupRow[]> {
  const wanted = groupGlob === undefined ? undefined : globToRegExp(groupGlob);
  const groupReplies = await xinfoOfStreams(redis, 'GROUPS', streams);
  const rows: GroupRow[] = [];
  streams.forEach((s, i) => {
    const groups = groupReplies[i];
    // The stream may have been deleted since it was found: then it has no groups.
    if (groups === undefined) return;
    for (const raw of groups as unknown[][]) {
      const info = pairs(raw);
      const group = String(info['name']);
      if (wanted && !wanted.test(group)) continue;
      rows.push({
        stream: s.key,
        group,
        pending: Number(info['pending'] ?? 0),
        lag: numberOrNull(info['lag']),
        lastDeliveredId: String(info['last-delivered-id'] ?? ''),
        entriesRead: numberOrNull(info['entries-read']),
        consumers: [],
      });
    }
  });
  if (rows.length === 0) return rows;
  const consumerReplies = await eachKey(rows, (row) => redis.xinfo('CONSUMERS', row.stream, row.group));
  rows.forEach((row, i) => {
    const [error, list] = consumerReplies[i] ?? [new Error('no reply')];
    if (error) {
      if (/no such key|NOGROUP/i.test(error.message)) return;
      throw error;
    }
    row.consumers = (list as unknown[][])
      .map(pairs)
      .map((c) => ({ name: String(c['name']), pending: Number(c['pending'] ?? 0), idleMs: Number(c['idle'] ?? 0), inactiveMs: numberOrNull(c['inactive']) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  });
  return rows.sort((a, b) => a.stream.localeCompare(b.stream) || a.group.localeCompare(b.group));
}

/** XINFO answers as a flat `[name, value, name, value, ...]` list. */

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  // Redis 7.2 reports an unknown `inactive` as -1.
  return Number.isFinite(n) && n >= 0 ? n : null;
}
