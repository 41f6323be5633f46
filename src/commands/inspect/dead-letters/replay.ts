import { Args, Flags } from '@oclif/core';
import { EXIT_CODES_HELP, OpsCommand } from '../../../cli/ops-command.js';
import type { Column } from '../../../cli/output.js';
import { checkDeadLetterId, replayDeadLetter, type Replayed } from '../../../inspect/dead-letters.js';

const COLUMNS: Column<Replayed>[] = [
  { header: 'DEAD LETTER', value: (r) => r.id, width: 15 },
  { header: 'REPLAYED TO', value: (r) => r.stream, width: 20 },
  { header: 'NEW STREAM ID', value: (r) => r.streamId },
];

export default class InspectDeadLettersReplay extends OpsCommand<typeof InspectDeadLettersReplay> {
  static override summary = 'Put dead letters back on their streams, then delete them';
  static override description = `For each ID (from "inspect dead-letters"): appends the original entry's fields to the stream it came from (XADD, trimmed like any event), then deletes the dead letter (XDEL), in one atomic step: two operators replaying the same letter cannot both succeed.

The event arrives as a new entry, with its original message id: every consumer group of that stream gets it again, not only the one that gave up, so listeners must tolerate a repeat (they already must: delivery is at least once).

A dead letter whose fields are not a readable event is refused (it would only fail again) unless --force. IDs are handled in order; the first failure stops the rest.

JSON fields: id (the dead letter), stream, streamId (of the new entry).

${EXIT_CODES_HELP}`;
  static override usage = 'ID... [--force] [--json]';
  static override examples = ['<%= config.bin %> inspect dead-letters replay 1714557600000-0', '<%= config.bin %> inspect dead-letters replay 1714557600000-0 1714557600123-0 --json'];
  static override strict = false;
  static override args = {
    ids: Args.string({ description: 'Dead-letter ids (the ID column of inspect dead-letters); one or more', required: true }),
  };
  static override flags = {
    force: Flags.boolean({ description: 'Replay even a dead letter whose fields are not a readable event' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(InspectDeadLettersReplay);
    const ids = argv as string[];
    for (const id of ids) this.parseArg('dead-letter id', () => checkDeadLetterId(id));
    await this.withInspector(async ({ redis, config }) => {
      const options = { maxStreamLength: config.events.maxStreamLength, force: this.flags.force };
      for (const id of ids) {
        const replayed = await replayDeadLetter(redis, config.events.deadLetterStream, id, options);
        this.printer.row(replayed, COLUMNS, (row) => row);
      }
    });
  }
}
