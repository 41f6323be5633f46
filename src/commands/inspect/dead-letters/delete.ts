import { Args } from '@oclif/core';
import { exitCodesHelp } from '../../../cli/exit-codes.js';
import { OpsCommand } from '../../../cli/ops-command.js';
import type { Column } from '../../../cli/output.js';
import { checkDeadLetterId, deleteDeadLetter } from '../../../inspect/dead-letters.js';

interface Deleted {
  id: string;
  deleted: true;
}

const COLUMNS: Column<Deleted>[] = [{ header: 'DELETED', value: (d) => d.id }];

export default class InspectDeadLettersDelete extends OpsCommand<typeof InspectDeadLettersDelete> {
  static override summary = 'Delete dead letters for good';
  static override description = `Deletes each dead letter (XDEL from the dead-letter stream) without replaying it. IDs are handled in order; one that is not there (already replayed or deleted) stops the rest.

JSON fields: id, deleted.

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = 'ID... [--json]';
  static override examples = ['<%= config.bin %> inspect dead-letters delete 1714557600000-0'];
  static override strict = false;
  static override args = {
    ids: Args.string({ description: 'Dead-letter ids (the ID column of inspect dead-letters); one or more', required: true }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(InspectDeadLettersDelete);
    const ids = argv as string[];
    for (const id of ids) this.parseArg('dead-letter id', () => checkDeadLetterId(id));
    await this.withInspector(async ({ redis, config }) => {
      for (const id of ids) {
        await deleteDeadLetter(redis, config.events.deadLetterStream, id);
        this.printer.row({ id, deleted: true as const }, COLUMNS, (row) => row);
      }
    });
  }
}
