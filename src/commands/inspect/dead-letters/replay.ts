import { Args, Flags } from '@oclif/core';
import { exitCodesHelp } from '../../../cli/exit-codes.js';
import { OpsCommand } from '../../../cli/ops-command.js';
import type { Column } from '../../../cli/output.js';
import { REPLAY_CHECK_MS } from '../../../transport/replay-stream.js';
import { checkDeadLetterId, listeningGroups, replayDeadLetter, type Replayed } from '../../../inspect/dead-letters.js';

const COLUMNS: Column<Replayed>[] = [
  { header: 'DEAD LETTER', value: (r) => r.id, width: 15 },
  { header: 'FOR GROUP', value: (r) => r.group ?? '(every group)' },
  { header: 'REPLAYED TO', value: (r) => r.stream, width: 20 },
  { header: 'NEW STREAM ID', value: (r) => r.streamId },
];

export default class InspectDeadLettersReplay extends OpsCommand<typeof InspectDeadLettersReplay> {
  static override summary = 'Hand dead letters again to the group that gave up, then delete them';
  static override description = `For each ID (from "inspect dead-letters"): gives the event again to the one consumer group that dead-lettered it, and deletes the dead letter, in one atomic step (two operators replaying the same letter cannot both succeed). The other groups of the stream, which handled the event, do not get it again.

The entry goes to the group's replay stream, lightbus:replay:{group} (created with the group on it, trimmed like any event stream), which that group's listeners look for every ${REPLAY_CHECK_MS / 1000} seconds and then read along with their event streams. Only lightbus (TypeScript) listeners read replay streams: the group must be listed by a process on the bus (inspect processes), else the replay is refused. For a Python Lightbus group, or to give the event to every group of its stream, --all-groups appends the original entry to the stream it came from (XADD, trimmed like any event): every consumer group of that stream gets it again.

Either way the event arrives as a new entry with its original message id, so listeners must tolerate a repeat (they already must: delivery is at least once). A dead letter whose fields are not a readable event is refused (it would only fail again) unless --force. IDs are handled in order; the first failure stops the rest.

JSON fields: id (the dead letter), group (the group that gets it again; null with --all-groups), stream (where it was written), streamId (of the new entry).

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = 'ID... [--all-groups] [--force] [--json]';
  static override examples = ['<%= config.bin %> inspect dead-letters replay 1714557600000-0', '<%= config.bin %> inspect dead-letters replay 1714557600000-0 1714557600123-0 --json'];
  static override strict = false;
  static override args = {
    ids: Args.string({ description: 'Dead-letter ids (the ID column of inspect dead-letters); one or more', required: true }),
  };
  static override flags = {
    force: Flags.boolean({ description: 'Replay even a dead letter whose fields are not a readable event' }),
    'all-groups': Flags.boolean({ description: 'Put it back on its original stream, for every group of that stream (needed for a Python Lightbus group)' }),
  };

  async run(): Promise<Replayed[]> {
    const { argv } = await this.parse(InspectDeadLettersReplay);
    const ids = argv as string[];
    for (const id of ids) this.parseArg('dead-letter id', () => checkDeadLetterId(id));
    return this.withInspector(async (inspector) => {
      const { redis, config } = inspector;
      const allGroups = this.flags['all-groups'];
      const options = {
        maxStreamLength: config.events.maxStreamLength,
        force: this.flags.force,
        allGroups,
        ...(allGroups ? {} : { listeningGroups: listeningGroups(await inspector.processes()) }),
      };
      const done: Replayed[] = [];
      for (const id of ids) {
        const replayed = await replayDeadLetter(redis, config.events.deadLetterStream, id, options);
        done.push(replayed);
        this.printer.row(replayed, COLUMNS, (row) => row);
      }
      return done;
    });
  }

  /** Each row was printed as it happened (a JSON line with --json): nothing is left to print. */
  protected override jsonLines(): unknown[] {
    return [];
  }
}
