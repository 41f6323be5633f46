/**
 * `lightbus inspect events --follow`: the newest matching events first (oldest of them first),
 * then every new one as it arrives, until the signal aborts. The command only prints.
 */
import { closeConnection } from '../transport/redis/connection.js';
import { followEvents, latestIds, listEvents, type EventFilter, type EventRow } from './events.js';
import type { Inspector } from './inspector.js';
import { namedStreams } from './streams.js';

export async function followMatchingEvents(
  inspector: Inspector,
  filter: EventFilter,
  options: { limit: number; onEvent: (row: EventRow) => void; signal: AbortSignal },
): Promise<void> {
  const named = namedStreams(filter.patterns, inspector.config.events.streamUse, inspector.keys);
  // Streams named by the patterns are followed before they exist; others as they appear.
  const discover = async () => {
    const found = await inspector.streams(filter.patterns);
    const keys = new Set(found.map((s) => s.key));
    return [...found, ...named.filter((s) => !keys.has(s.key))];
  };
  const streams = await discover();
  // Where the listing ends, following begins: nothing is shown twice or skipped in between.
  const startAt = await latestIds(inspector.redis, streams);
  const recent = await listEvents(inspector.redis, streams, filter, options.limit, startAt);
  for (const row of recent.reverse()) options.onEvent(row);
  const blocking = await inspector.blockingConnection();
  try {
    await followEvents({ redis: blocking, discover, startAt, filter, onEvent: options.onEvent, signal: options.signal });
  } finally {
    await closeConnection(blocking, true);
  }
}
