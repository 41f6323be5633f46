/**
 * The in-memory stand-in for the Redis streams the event transport uses: streams of entries
 * with `{ms}-{seq}` ids, consumer groups with a last-delivered id and a pending entries list,
 * mirroring the Redis commands (XADD, XGROUP CREATE, XREADGROUP >, XPENDING, XCLAIM, XACK) so
 * the memory transport runs the same consumer algorithm as the Redis one. Several memory
 * transports sharing one store behave like several processes sharing one Redis.
 */
import type { PendingInfo, StreamEntry } from '../group-backend.js';

interface PendingEntry {
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

interface Group {
  lastDelivered: StreamIdParts;
  /** In id order: new deliveries always carry ids above every pending one. */
  pending: Map<string, PendingEntry>;
}

interface Stream {
  entries: StreamEntry[];
  byId: Map<string, StreamEntry>;
  last: StreamIdParts;
  groups: Map<string, Group>;
}

type StreamIdParts = readonly [ms: number, seq: number];

/** The error a missing group or stream gives, worded as Redis words it so one check fits both. */
export class NoGroupError extends Error {
  constructor(stream: string, group: string) {
    super(`NOGROUP No such key '${stream}' or consumer group '${group}'`);
    this.name = 'NoGroupError';
  }
}

/** Streams and consumer groups in memory; hand one store to several transports to simulate several processes. */
export class MemoryStore {
  private readonly streams = new Map<string, Stream>();
  private readonly appendListeners = new Set<(stream: string) => void>();

  /** Appends an entry (XADD), trimming to `maxLength` entries when given; returns its id. */
  xadd(streamName: string, fields: readonly string[], maxLength?: number | null): string {
    const stream = this.streamOf(streamName, true)!;
    const now = Date.now();
    const [lastMs, lastSeq] = stream.last;
    const id: StreamIdParts = now > lastMs ? [now, 0] : [lastMs, lastSeq + 1];
    const entry: StreamEntry = { streamId: formatId(id), fields: [...fields] };
    stream.entries.push(entry);
    stream.byId.set(entry.streamId, entry);
    stream.last = id;
    if (maxLength != null && stream.entries.length > maxLength) {
      for (const removed of stream.entries.splice(0, stream.entries.length - maxLength)) stream.byId.delete(removed.streamId);
    }
    for (const listener of [...this.appendListeners]) listener(streamName);
    return entry.streamId;
  }

  /** Every entry of a stream, oldest first (XRANGE - +). */
  xrange(streamName: string): StreamEntry[] {
    return (this.streams.get(streamName)?.entries ?? []).map((entry) => ({ streamId: entry.streamId, fields: [...entry.fields] }));
  }

  exists(streamName: string): boolean {
    return this.streams.has(streamName);
  }

  /** Deletes a stream with its groups (DEL), as a lost Redis or an operator would. */
  del(streamName: string): void {
    this.streams.delete(streamName);
  }

  /** XGROUP CREATE without MKSTREAM: `since` is `$`, `0` or a stream id. Returns false when the group exists. */
  xgroupCreate(streamName: string, group: string, since: string): boolean {
    const stream = this.streams.get(streamName);
    if (!stream) throw new Error(`ERR The XGROUP subcommand requires the key to exist (${streamName})`);
    if (stream.groups.has(group)) return false;
    stream.groups.set(group, { lastDelivered: since === '$' ? stream.last : parseId(since), pending: new Map() });
    return true;
  }

  /** XREADGROUP ... > : up to `count` entries never delivered to the group, now pending for `consumer`. */
  xreadgroupNew(streamName: string, group: string, consumer: string, count: number): StreamEntry[] {
    const { stream, state } = this.groupOf(streamName, group);
    const start = firstIndexAfter(stream.entries, state.lastDelivered);
    const taken = stream.entries.slice(start, start + count);
    const now = Date.now();
    for (const entry of taken) state.pending.set(entry.streamId, { consumer, deliveredAt: now, deliveries: 1 });
    if (taken.length > 0) state.lastDelivered = parseId(taken[taken.length - 1]!.streamId);
    return taken.map((entry) => ({ streamId: entry.streamId, fields: [...entry.fields] }));
  }

  /** XPENDING [IDLE min] (after + count [consumer]. */
  xpending(streamName: string, group: string, query: { after?: string; count: number; minIdleMs?: number; consumer?: string }): PendingInfo[] {
    const { state } = this.groupOf(streamName, group);
    const after = query.after === undefined ? undefined : parseId(query.after);
    const now = Date.now();
    const rows: PendingInfo[] = [];
    for (const [streamId, pending] of state.pending) {
      if (rows.length >= query.count) break;
      if (after && compareIds(parseId(streamId), after) <= 0) continue;
      if (query.consumer !== undefined && pending.consumer !== query.consumer) continue;
      const idleMs = now - pending.deliveredAt;
      if (query.minIdleMs !== undefined && idleMs < query.minIdleMs) continue;
      rows.push({ streamId, consumer: pending.consumer, idleMs, deliveries: pending.deliveries });
    }
    return rows;
  }

  /**
   * XCLAIM: gives pending entries idle at least `minIdleMs` to `consumer`. With `justId` the
   * delivery count is left alone and nothing is returned (a keep-alive). Entries gone from the
   * stream leave the pending list, as in Redis 7.
   */
  xclaim(streamName: string, group: string, consumer: string, minIdleMs: number, ids: readonly string[], justId = false): StreamEntry[] {
    const { stream, state } = this.groupOf(streamName, group);
    const now = Date.now();
    const claimed: StreamEntry[] = [];
    for (const id of ids) {
      const pending = state.pending.get(id);
      if (!pending || now - pending.deliveredAt < minIdleMs) continue;
      const entry = stream.byId.get(id);
      if (!entry) {
        state.pending.delete(id);
        continue;
      }
      pending.consumer = consumer;
      pending.deliveredAt = now;
      if (!justId) {
        pending.deliveries++;
        claimed.push({ streamId: entry.streamId, fields: [...entry.fields] });
      }
    }
    return claimed;
  }

  /** XACK: removes entries from the group's pending list; returns how many were pending. */
  xack(streamName: string, group: string, ids: readonly string[]): number {
    const { state } = this.groupOf(streamName, group);
    let removed = 0;
    for (const id of ids) if (state.pending.delete(id)) removed++;
    return removed;
  }

  /** Calls `listener` with the stream's name after every append; returns the unsubscribe function. */
  onAppend(listener: (stream: string) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  private streamOf(name: string, create: boolean): Stream | undefined {
    let stream = this.streams.get(name);
    if (!stream && create) {
      stream = { entries: [], byId: new Map(), last: [0, 0], groups: new Map() };
      this.streams.set(name, stream);
    }
    return stream;
  }

  private groupOf(streamName: string, group: string): { stream: Stream; state: Group } {
    const stream = this.streams.get(streamName);
    const state = stream?.groups.get(group);
    if (!stream || !state) throw new NoGroupError(streamName, group);
    return { stream, state };
  }
}

function parseId(text: string): StreamIdParts {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) throw new Error(`ERR Invalid stream ID specified as stream command argument: ${text}`);
  return [Number(match[1]), Number(match[2] ?? 0)];
}

function formatId([ms, seq]: StreamIdParts): string {
  return `${ms}-${seq}`;
}

function compareIds(a: StreamIdParts, b: StreamIdParts): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Index of the first entry whose id is above `id` (entries are in id order). */
function firstIndexAfter(entries: StreamEntry[], id: StreamIdParts): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareIds(parseId(entries[middle]!.streamId), id) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
