import { Args, Flags } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import type { GroupRow } from '../../inspect/groups.js';
import { PATTERNS_HELP } from '../../inspect/patterns.js';
import { GROUP_COLUMNS } from '../../cli/inspect-columns.js';

export default class InspectGroups extends OpsCommand<typeof InspectGroups> {
  static override summary = 'Show the consumer groups of the event streams: pending, lag, consumers and their idle time';
  static override description = `One row per consumer group (one per service and listener, named {service}-{listener}) on each event stream (XINFO GROUPS, XINFO CONSUMERS):

  PENDING   entries delivered to a consumer and not acknowledged yet (being handled, or held by a dead consumer until the acknowledgement timeout hands them to another)
  LAG       entries in the stream not yet delivered to the group ("?" when Redis cannot tell)
  CONSUMERS each consumer (a process name) with its pending count and how long since it last read

${PATTERNS_HELP}

JSON fields: stream, group, pending, lag, lastDeliveredId, entriesRead, consumers (name, pending, idleMs, inactiveMs).

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = '[PATTERN...] [--group GLOB] [--json]';
  static override examples = ['<%= config.bin %> inspect groups', '<%= config.bin %> inspect groups "auth.*" --group "billing-*"'];
  static override strict = false;
  static override args = {
    patterns: Args.string({ description: 'Event patterns choosing the streams (any number; default: every stream)' }),
  };
  static override flags = {
    group: Flags.string({ char: 'g', description: 'Only groups whose name matches this glob (* and ?), e.g. "billing-*"' }),
  };

  async run(): Promise<GroupRow[]> {
    const { argv } = await this.parse(InspectGroups);
    const patterns = this.memberPatterns(argv as string[]);
    const rows = await this.withInspector((inspector) => inspector.groups(patterns, this.flags.group));
    this.printer.table(rows, GROUP_COLUMNS, { empty: 'No consumer groups match.' });
    return rows;
  }
}
