import { Args } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import type { QueueRow } from '../../inspect/queues.js';
import { PATTERNS_HELP } from '../../inspect/patterns.js';
import { QUEUE_COLUMNS } from '../../cli/inspect-columns.js';

export default class InspectQueues extends OpsCommand<typeof InspectQueues> {
  static override summary = 'Show the RPC queues: calls waiting per API, and who serves them';
  static override description = `The calls waiting in each API's queue ({api}:rpc_queue, or lightbus:{api}:rpc_queue with redis.keys 'hash-tagged'; found with SCAN on every master; LLEN), deepest first, with the processes serving the API. A queue that grows while its servers are live means they cannot keep up; one with nobody serving it means callers are timing out. Calls whose caller gave up stay queued until a server pops and drops them.

APIs known from schemas or heartbeats are listed with 0 waiting even when their queue does not exist (Redis deletes an empty list).

${PATTERNS_HELP} Only the API part of a pattern is used here.

JSON fields: api, key, depth, servedBy (service, process, status).

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = '[PATTERN...] [--json]';
  static override examples = ['<%= config.bin %> inspect queues', "<%= config.bin %> inspect queues --json | jq 'select(.depth > 100)'"];
  static override strict = false;
  static override args = {
    patterns: Args.string({ description: 'API patterns (any number; default: every API)' }),
  };

  async run(): Promise<QueueRow[]> {
    const { argv } = await this.parse(InspectQueues);
    const patterns = this.memberPatterns(argv as string[]);
    const rows = await this.withInspector((inspector) => inspector.queues(patterns));
    this.printer.table(rows, QUEUE_COLUMNS, { empty: 'No RPC queues match.' });
    return rows;
  }
}
