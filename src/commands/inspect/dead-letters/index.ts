import { Args, Flags } from '@oclif/core';
import { exitCodesHelp } from '../../../cli/exit-codes.js';
import { OpsCommand } from '../../../cli/ops-command.js';
import type { DeadLetterRow } from '../../../inspect/dead-letters.js';
import { PATTERNS_HELP } from '../../../inspect/patterns.js';
import { DEAD_LETTER_COLUMNS } from '../../../cli/inspect-columns.js';

export default class InspectDeadLetters extends OpsCommand<typeof InspectDeadLetters> {
  static override summary = 'List the dead letters: events a listener gave up on, newest first';
  static override description = `Reads the dead-letter stream (config events.deadLetterStream, default lightbus:dead_letter:stream). A listener moves an event there when it cannot be read (malformed) or when its handler failed every attempt of a { retry } policy; the entry keeps the stream and stream id it came from, the consumer group, the reason and the original fields.

Hand one again to the group that gave up with "inspect dead-letters replay ID" (--all-groups: to every group of its stream), or drop it with "inspect dead-letters delete ID" (ID is the first column).

${PATTERNS_HELP} Dead letters that are not readable events match no pattern.

JSON fields: id, time, stream, streamId, group, reason, fields (the original flat field list), api, event, messageId, params; malformed instead of the event's fields when they are not a readable event.

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = '[PATTERN...] [--group GLOB] [--limit N] [--json]';
  static override examples = [
    '<%= config.bin %> inspect dead-letters',
    '<%= config.bin %> inspect dead-letters "auth.*" --group "mailer-*" --limit 50',
    '<%= config.bin %> inspect dead-letters --json | jq -r .id',
  ];
  static override strict = false;
  static override args = {
    patterns: Args.string({ description: 'Event patterns (any number; default: every dead letter)' }),
  };
  static override flags = {
    group: Flags.string({ char: 'g', description: 'Only dead letters of consumer groups matching this glob (* and ?)' }),
    limit: Flags.integer({ char: 'n', min: 1, default: 20, description: 'At most this many' }),
  };

  async run(): Promise<DeadLetterRow[]> {
    const { argv } = await this.parse(InspectDeadLetters);
    const patterns = this.memberPatterns(argv as string[]);
    const { group, limit } = this.flags;
    const rows = await this.withInspector((inspector) => inspector.deadLetters({ patterns, ...(group !== undefined ? { group } : {}) }, limit));
    this.printer.table(rows, DEAD_LETTER_COLUMNS, { empty: 'No dead letters match.' });
    return rows;
  }
}
