import { Args, Flags } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import { parseKeyValue } from '../../cli/params.js';
import type { EventFilter, EventRow } from '../../inspect/events.js';
import { followMatchingEvents } from '../../inspect/follow.js';
import type { Inspector } from '../../inspect/inspector.js';
import { PATTERNS_HELP } from '../../inspect/patterns.js';
import { parseTimeBound } from '../../inspect/time.js';
import { EVENT_COLUMNS } from '../../cli/inspect-columns.js';

export default class InspectEvents extends OpsCommand<typeof InspectEvents> {
  static override summary = 'Show the events in the streams, newest first; --follow tails new ones live';
  static override description = `Reads the event streams ({api}.*:stream, or {api}.{event}:stream with the per_event layout; lightbus:{api}.*:stream with redis.keys 'hash-tagged') without joining any consumer group, so listeners are not disturbed, and prints the newest matching events first, merged across streams.

${PATTERNS_HELP}

Filters (all must hold): --id takes a message id (the event's "id", a UUID) or a stream id (1714557600000-0); --since and --until take a duration ago (30s, 10m, 2h, 1d), an ISO time (2025-05-01T10:00:00Z) or a stream id; --where KEY=VALUE keeps events whose parameter has that value (JSON where it parses: count=3, ok=true; a string otherwise; repeat --where for several).

--follow prints the newest --limit matches oldest first, then each new event as it arrives, with a blocking XREAD (Redis wakes it; nothing polls), until Ctrl-C. Streams that appear meanwhile are picked up.

Entries that are not readable events are shown (as unreadable, with the reason) unless a filter needs their contents.

JSON fields: stream, streamId, time, id, api, event, version, params; or stream, streamId, time, malformed.

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = '[PATTERN...] [--id ID] [--since TIME] [--until TIME] [--where KEY=VALUE...] [--limit N] [--follow] [--json]';
  static override examples = [
    '<%= config.bin %> inspect events',
    '<%= config.bin %> inspect events "auth.*" --since 10m',
    '<%= config.bin %> inspect events "*.user_*" --where username=ada --limit 5',
    '<%= config.bin %> inspect events --id 0b9a6c62-8c1e-4bb4-9d0a-0c3e8a7f2b11',
    '<%= config.bin %> inspect events auth.user_registered --follow --json',
  ];
  static override strict = false;
  static override args = {
    patterns: Args.string({ description: 'Event patterns (any number; default: every event)' }),
  };
  static override flags = {
    id: Flags.string({ description: 'Only the event with this message id (UUID) or stream id (1714557600000-0)' }),
    since: Flags.string({ description: 'Only events added at or after this time: 30s, 10m, 2h, 1d ago, an ISO time, or a stream id' }),
    until: Flags.string({ description: 'Only events added at or before this time (same forms as --since)' }),
    where: Flags.string({ char: 'w', multiple: true, multipleNonGreedy: true, description: 'Only events whose parameter KEY has VALUE (KEY=VALUE; repeatable, all must hold)' }),
    limit: Flags.integer({ char: 'n', min: 0, default: 20, description: 'At most this many events (with --follow: shown before following)' }),
    follow: Flags.boolean({ char: 'f', description: 'Then print new events as they arrive, until Ctrl-C', exclusive: ['until', 'id'] }),
  };

  async run(): Promise<EventRow[] | undefined> {
    const { argv } = await this.parse(InspectEvents);
    const filter = this.filter(argv as string[]);
    return this.withInspector((inspector) => (this.flags.follow ? this.follow(inspector, filter) : this.list(inspector, filter)));
  }

  private async list(inspector: Inspector, filter: EventFilter): Promise<EventRow[]> {
    const rows = await inspector.events(filter, this.flags.limit);
    this.printer.table(rows, EVENT_COLUMNS, { empty: 'No events match.' });
    return rows;
  }

  /** Prints rows as they come (JSON lines with --json) and returns nothing for oclif to print. */
  private async follow(inspector: Inspector, filter: EventFilter): Promise<undefined> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const onEvent = (row: EventRow) => this.printer.row(row, EVENT_COLUMNS, (r) => r);
      await followMatchingEvents(inspector, filter, { limit: this.flags.limit, onEvent, signal: controller.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return undefined;
  }

  private filter(patternTexts: string[]): EventFilter {
    const { id, since, until, where } = this.flags;
    const now = Date.now();
    return {
      patterns: this.memberPatterns(patternTexts),
      ...(id !== undefined ? { id } : {}),
      ...(since !== undefined ? { sinceMs: this.parseArg('--since', () => parseTimeBound(since, now)) } : {}),
      ...(until !== undefined ? { untilMs: this.parseArg('--until', () => parseTimeBound(until, now)) } : {}),
      where: (where ?? []).map((item) => {
        const { key, value, text } = this.parseArg('--where', () => parseKeyValue(item));
        return { name: key, value, text };
      }),
    };
  }
}
