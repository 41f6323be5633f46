/**
 * One look at the bus for the dashboard, read through src/inspect/ only: heartbeats, schemas,
 * RPC queues, event streams with their groups, and the newest dead letters. Every read is
 * non-blocking and bounded (stream count, dead-letter count); the rates come from counters
 * sampled here, one poll after another.
 */
import { describeApis, type ApiRow } from '../inspect/apis.js';
import type { DeadLetterRow } from '../inspect/dead-letters.js';
import type { GroupRow } from '../inspect/groups.js';
import type { Inspector } from '../inspect/inspector.js';
import type { ProcessRow } from '../inspect/processes.js';
import { listQueues, type QueueRow } from '../inspect/queues.js';
import type { StreamStatRow } from '../inspect/stream-stats.js';
import { RateHistory, type RatePoint } from './rates.js';

/** Streams looked at per poll; a bus with more shows the first ones, by key, and says so. */
export const MAX_STREAMS = 200;
/** Dead letters listed per poll (the count is always exact). */
export const DEAD_LETTERS_SHOWN = 50;
/** How far back the charts go. */
export const RATE_WINDOW_MS = 5 * 60_000;

export interface StreamView extends StreamStatRow {
  /** Entries added per second, oldest first. */
  fired: RatePoint[];
}

export interface GroupView extends GroupRow {
  /** Entries acknowledged per second (read less still pending), oldest first. */
  handled: RatePoint[];
}

export interface Overview {
  /** When it was read, ISO-8601. */
  at: string;
  processes: ProcessRow[];
  apis: ApiRow[];
  queues: QueueRow[];
  streams: StreamView[];
  groups: GroupView[];
  /** Whether there were more than {@link MAX_STREAMS} streams. */
  streamsTruncated: boolean;
  deadLetters: { count: number; newest: DeadLetterRow[] };
}

/** What a poll reads besides the overview: the schemas, sent only when they change. */
export interface Reading {
  overview: Overview;
  schemas: Record<string, unknown>;
}

/** Reads the bus once per call, keeping the rate history between calls. */
export class OverviewReader {
  private readonly fired = new RateHistory(RATE_WINDOW_MS, MAX_STREAMS);
  private readonly handled = new RateHistory(RATE_WINDOW_MS, MAX_STREAMS * 8);

  constructor(private readonly inspector: Inspector) {}

  async read(now: number = Date.now()): Promise<Reading> {
    const inspector = this.inspector;
    const [schemas, processes, allStreams, deadLetterCount] = await Promise.all([
      inspector.schemas(),
      inspector.processes(),
      inspector.streams(),
      inspector.deadLetterCount(),
    ]);
    const streams = allStreams.slice(0, MAX_STREAMS);
    const apis = describeApis(schemas, processes);
    const [queues, stats, groups, newest] = await Promise.all([
      listQueues(inspector.redis, processes, apis.map((a) => a.api), [], inspector.keys),
      inspector.streamStats(streams),
      inspector.groupsOf(streams),
      deadLetterCount > 0 ? inspector.deadLetters({ patterns: [] }, DEAD_LETTERS_SHOWN) : Promise.resolve([]),
    ]);
    for (const s of stats) this.fired.sample(s.stream, s.entriesAdded ?? s.length, now);
    for (const g of groups) if (g.entriesRead !== null) this.handled.sample(groupKey(g), Math.max(0, g.entriesRead - g.pending), now);
    this.fired.prune(now);
    this.handled.prune(now);
    return {
      schemas,
      overview: {
        at: new Date(now).toISOString(),
        processes,
        apis,
        queues,
        streams: stats.map((s) => ({ ...s, fired: this.fired.points(s.stream) })),
        groups: groups.map((g) => ({ ...g, handled: this.handled.points(groupKey(g)) })),
        streamsTruncated: allStreams.length > streams.length,
        deadLetters: { count: deadLetterCount, newest },
      },
    };
  }
}

function groupKey(g: GroupRow): string {
  return `${g.stream}\u0000${g.group}`;
}
