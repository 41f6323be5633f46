import { Args } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import type { ApiRow } from '../../inspect/apis.js';
import { PATTERNS_HELP } from '../../inspect/patterns.js';
import { API_COLUMNS } from '../../cli/inspect-columns.js';

export default class InspectApis extends OpsCommand<typeof InspectApis> {
  static override summary = 'List the APIs on the bus: their RPCs and events, and which processes serve them';
  static override description = `The APIs whose schemas are published on the bus (by processes in any language), with their RPCs and events, and the processes whose heartbeats say they serve them. An API served by a process that publishes no schema is listed from the heartbeats, with its members unknown.

${PATTERNS_HELP} Only the API part of a pattern is used here.

JSON fields: api, rpcs, events, schema (whether one is published), servedBy (service, process, status).

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = '[PATTERN...] [--json]';
  static override examples = ['<%= config.bin %> inspect apis', '<%= config.bin %> inspect apis "billing*" --json'];
  static override strict = false;
  static override args = {
    patterns: Args.string({ description: 'API patterns (any number; default: every API)' }),
  };

  async run(): Promise<ApiRow[]> {
    const { argv } = await this.parse(InspectApis);
    const patterns = this.memberPatterns(argv as string[]);
    const rows = await this.withInspector((inspector) => inspector.apis(patterns));
    this.printer.table(rows, API_COLUMNS, { empty: 'No APIs match.' });
    return rows;
  }
}
