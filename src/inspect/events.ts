/**
 * Reading events back out of their streams for people: newest first across every matching
 * stream, filtered by member pattern, id, time and parameter value; and following new ones
 * live with a blocking XREAD (the server wakes us; nothing polls). Reading never joins a
 * consumer group, so it never takes an event away from a listener.
 */
import { isDeepStrictEqual } from 'node:util';
import type { RedisConnection } from '../transport/redis/connection.js';
import { decodeEvent, isMalformed, isNoop } from '../transport/wire/events.js';
import { eachKey } from './each-key.js';
import { matchesMember, type MemberPattern } from './patterns.js';
import type { EventStream } from './streams.js';
import { compareStreamIds, isStreamId, streamIdTime } from './time.js';
import { sleep } from '../util/timeouts.js';

/** A condition on a parameter: `--where username=ada`. */
export interface ParamCondition {
  name: string;
  /** The value as JSON where the text parses as JSON. */
  value: unknown;
  /** The text as typed: `code=007` matches the string "007" as well as the number 7. */
  text: string;
}

/** Which events to show. Every given condition must hold. */
export interface EventFilter {
  patterns: readonly MemberPattern[];
  /** A message id (the `id` field, a UUID) or a stream id (`1714557600000-0`). */
  id?: string;
  /** Oldest time shown, Unix ms (inclusive). */
  sinceMs?: number;
  /** Newest time shown, Unix ms (inclusive). */
  untilMs?: number;
  where: readonly ParamCondition[];
}

/** One event as shown: where it sits, and what it is (or why it could not be read). */
export interface EventRow {
  stream: string;
  streamId: string;
  /** When Redis added it (from the stream id), ISO-8601. */
  time: string;
  id?: string;
  api?: string;
  event?: string;
  version?: number;
  params?: Record<string, unknown>;
  /** Why the entry is not a readable event; the other fields are then absent. */
  malformed?: string;
}

type RawEntry = [streamId: string, fields: string[]];

const MIN_PAGE = 100;
const MAX_PAGE = 1000;
const FOLLOW_BATCH = 100;
const FOLLOW_BLOCK_MS = 5000;
/** How often a follower on a cluster looks at every stream (it cannot block on several slots). */
const CLUSTER_POLL_MS = 250;

/** An entry as a row; undefined for a noop entry (it only creates its stream). */
export function entryToRow(stream: string, streamId: string, fields: readonly string[]): EventRow | undefined {
  if (isNoop(fields)) return undefined;
  const time = new Date(streamIdTime(streamId)).toISOString();
  const decoded = decodeEvent(fields);
  if (isMalformed(decoded)) return { stream, streamId, time, malformed: decoded.malformed };
  return { stream, streamId, time, id: decoded.id, api: decoded.api, event: decoded.event, version: decoded.version, params: decoded.kwargs };
}

/**
 * Whether a row passes the filter. An unreadable entry passes only filters that do not need
 * its contents (no id, no `--where`, and patterns naming whole APIs): it then shows up in the
 * stream it damages, where an operator looks for it.
 */
export function rowMatches(row: EventRow, filter: EventFilter): boolean {
  const ms = streamIdTime(row.streamId);
  if (filter.sinceMs !== undefined && ms < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && ms > filter.untilMs) return false;
  if (filter.id !== undefined && (isStreamId(filter.id) ? row.streamId !== filter.id : row.id !== filter.id)) {
    return false;
  }
  if (row.malformed !== undefined) {
    return (filter.id === undefined || isStreamId(filter.id)) && filter.where.length === 0 && filter.patterns.every((p) => p.anyMember);
  }
  if (!matchesMember(filter.patterns, row.api!, row.event!)) return false;
  return filter.where.every((condition) => paramMatches(row.params!, condition));
}

/** Whether the parameter has the condition's value (as JSON, or as the text typed for a string). */
export function paramMatches(params: Record<string, unknown>, condition: ParamCondition): boolean {
  if (!Object.hasOwn(params, condition.name)) return false;
  const value = params[condition.name];
  return isDeepStrictEqual(value, condition.value) || (typeof value === 'string' && value === condition.text);
}

/**
 * The newest `limit` events that pass the filter, newest first, merged across the streams by
 * stream id. Each stream is read backwards page by page (XREVRANGE), only as far as needed.
 * `endIds` caps a stream at an id (a follower's starting point), so nothing is shown twice.
 */
export async function listEvents(
  redis: RedisConnection,
  streams: readonly EventStream[],
  filter: EventFilter,
  limit: number,
  endIds: ReadonlyMap<string, string> = new Map(),
): Promise<EventRow[]> {
  if (limit <= 0 || streams.length === 0) return [];
  if (filter.id !== undefined && isStreamId(filter.id)) return findByStreamId(redis, streams, filter, filter.id);
  const pageSize = Math.min(MAX_PAGE, Math.max(MIN_PAGE, limit));
  const readers = streams.map((s) => new BackwardReader(redis, s.key, endIds.get(s.key) ?? bound(filter.untilMs, '+'), bound(filter.sinceMs, '-'), pageSize));
  const rows: EventRow[] = [];
  // Bounded by the entries in the streams: every turn consumes one entry or ends a reader.
  for (;;) {
    const heads = await Promise.all(readers.map((r) => r.head()));
    let newest = -1;
    heads.forEach((head, i) => {
      if (head && (newest < 0 || compareStreamIds(head[0], heads[newest]![0]) > 0)) newest = i;
    });
    if (newest < 0) return rows;
    const [streamId, fields] = readers[newest]!.take();
    const row = entryToRow(readers[newest]!.key, streamId, fields);
    if (row && rowMatches(row, filter)) {
      rows.push(row);
      // A message id is unique on the bus: once found, nothing older can match.
      if (rows.length >= limit || (filter.id !== undefined && !isStreamId(filter.id))) return rows;
    }
  }
}

/** The id of the newest entry of each stream (`0-0` for a stream that does not exist yet). */
export async function latestIds(redis: RedisConnection, streams: readonly EventStream[]): Promise<Map<string, string>> {
  const replies = await eachKey(streams, (s) => redis.xrevrange(s.key, '+', '-', 'COUNT', 1));
  const ids = new Map<string, string>();
  streams.forEach((s, i) => {
    const [error, entries] = replies[i] ?? [new Error('no reply')];
    if (error) throw error;
    ids.set(s.key, (entries as RawEntry[])[0]?.[0] ?? '0-0');
  });
  return ids;
}

export interface FollowOptions {
  /** A connection for this follower alone: it blocks in XREAD, and is disconnected on abort. */
  redis: RedisConnection;
  /** The streams to watch now; called again after every quiet block, so new streams join. */
  discover: () => Promise<EventStream[]>;
  /** Where each already known stream starts (exclusive); streams found later start at their beginning. */
  startAt: ReadonlyMap<string, string>;
  filter: EventFilter;
  /** Called for each matching event, oldest first. */
  onEvent: (row: EventRow) => void;
  /** Ends the follow (Ctrl-C). */
  signal: AbortSignal;
  blockMs?: number;
}

/**
 * Prints events as they arrive until `signal` aborts: XREAD BLOCK on every matching stream
 * from where each was (polled per stream on a cluster), so events arriving between two reads
 * are never missed.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const { redis, signal, filter } = options;
  const blockMs = options.blockMs ?? FOLLOW_BLOCK_MS;
  const positions = new Map(options.startAt);
  const interrupt = () => redis.disconnect();
  if (signal.aborted) return;
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    let keys = await refresh(options, positions);
    let discoveredAt = Date.now();
    while (!signal.aborted) {
      if (keys.length === 0) {
        await sleep(blockMs, signal);
      } else {
        const reply = redis.isCluster
          ? await pollEachStream(redis, keys, positions, blockMs, signal)
          : ((await redis.xread('COUNT', FOLLOW_BATCH, 'BLOCK', blockMs, 'STREAMS', ...keys, ...keys.map((k) => positions.get(k)!))) as Array<[string, RawEntry[]]> | null);
        const rows: EventRow[] = [];
        for (const [stream, entries] of reply ?? []) {
          for (const [streamId, fields] of entries) {
            positions.set(stream, streamId);
            const row = entryToRow(stream, streamId, fields);
            if (row && rowMatches(row, filter)) rows.push(row);
          }
        }
        rows.sort((a, b) => compareStreamIds(a.streamId, b.streamId));
        for (const row of rows) options.onEvent(row);
        if (reply !== null && Date.now() - discoveredAt < blockMs) continue;
      }
      if (signal.aborted) break;
      keys = await refresh(options, positions);
      discoveredAt = Date.now();
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener('abort', interrupt);
  }
}

/**
 * On a Redis Cluster one XREAD cannot name streams of different slots, and a blocking read per
 * stream would hold a connection per stream: instead a non-blocking XREAD per stream, every
 * {@link CLUSTER_POLL_MS}, until something arrived or `blockMs` passed (null, as a block that
 * timed out).
 */
async function pollEachStream(redis: RedisConnection, keys: string[], positions: Map<string, string>, blockMs: number, signal: AbortSignal): Promise<Array<[string, RawEntry[]]> | null> {
  const until = Date.now() + blockMs;
  for (;;) {
    const replies = await eachKey(keys, (key) => redis.xread('COUNT', FOLLOW_BATCH, 'STREAMS', key, positions.get(key)!));
    const found: Array<[string, RawEntry[]]> = [];
    for (const [error, reply] of replies) {
      if (error) throw error;
      found.push(...((reply ?? []) as Array<[string, RawEntry[]]>));
    }
    if (found.length > 0) return found;
    if (signal.aborted || Date.now() >= until) return null;
    await sleep(CLUSTER_POLL_MS, signal);
  }
}

/** Adds newly found streams (from their beginning: all they hold is new) and returns every watched key. */
async function refresh(options: FollowOptions, positions: Map<string, string>): Promise<string[]> {
  for (const stream of await options.discover()) if (!positions.has(stream.key)) positions.set(stream.key, '0-0');
  return [...positions.keys()].sort();
}

async function findByStreamId(redis: RedisConnection, streams: readonly EventStream[], filter: EventFilter, streamId: string): Promise<EventRow[]> {
  const rows: EventRow[] = [];
  for (const stream of streams) {
    for (const [id, fields] of (await redis.xrange(stream.key, streamId, streamId)) as RawEntry[]) {
      const row = entryToRow(stream.key, id, fields);
      if (row && rowMatches(row, filter)) rows.push(row);
    }
  }
  return rows;
}

function bound(ms: number | undefined, open: '+' | '-'): string {
  return ms === undefined ? open : String(Math.max(0, Math.floor(ms)));
}

/** One stream read newest first, a page at a time. */
class BackwardReader {
  private buffer: RawEntry[] = [];
  private next = 0;
  private exhausted = false;

  constructor(
    private readonly redis: RedisConnection,
    readonly key: string,
    private end: string,
    private readonly start: string,
    private readonly pageSize: number,
  ) {}

  /** The newest entry not taken yet, reading a page when the buffer is empty. */
  async head(): Promise<RawEntry | undefined> {
    if (this.next >= this.buffer.length && !this.exhausted) {
      const page = (await this.redis.xrevrange(this.key, this.end, this.start, 'COUNT', this.pageSize)) as RawEntry[];
      this.buffer = page;
      this.next = 0;
      if (page.length < this.pageSize) this.exhausted = true;
      else this.end = `(${page[page.length - 1]![0]}`;
    }
    return this.buffer[this.next];
  }

  take(): RawEntry {
    return this.buffer[this.next++]!;
  }
}

