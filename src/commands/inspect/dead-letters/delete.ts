import { Args } from '@oclif/core';
import { exitCodesHelp } from '../../../cli/exit-codes.js';
import { OpsCommand } from '../../../cli/ops-command.js';
import type { Column } from '../../../cli/output.js';
import { checkDeadLetterId, deleteDeadLetter } from '../../../inspect/dead-letters.js';

export interface Deleted {
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

  async run(): Promise<Deleted[]> {
    const { argv } = await this.parse(InspectDeadLettersDelete);
    const ids = argv as string[];
    for (const id of ids) this.parseArg('dead-letter id', () => checkDeadLetterId(id));
    return this.withInspector(async ({ redis, config }) => {
      const deleted: Deleted[] = [];
      for (const id of ids) {
        await deleteDeadLetter(redis, config.events.deadLetterStream, id);
        deleted.push({ id, deleted: true });
        this.printer.row(deleted.at(-1)!, COLUMNS, (row) => row);
      }
      return deleted;
    });
  }

  /** Each row was printed as it happened (a JSON line with --json): nothing is left to print. */
  protected override jsonLines(): unknown[] {
    return [];
  }
}
