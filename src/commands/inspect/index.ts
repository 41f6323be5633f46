import { Args } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import { PATTERNS_HELP } from '../../inspect/patterns.js';
import { API_COLUMNS, GROUP_COLUMNS, PROCESS_COLUMNS, QUEUE_COLUMNS } from '../../cli/inspect-columns.js';

export default class Inspect extends OpsCommand<typeof Inspect> {
  static override summary = 'See the live bus: processes, APIs, RPC queues, consumer groups, dead letters';
  static override description = `An overview of everything on the bus in one go; each part has its own command with filters and details:

  inspect processes      live and silent processes, from their heartbeats
  inspect apis           APIs with their RPCs and events, and who serves them
  inspect queues         RPC calls waiting per API
  inspect groups         consumer groups per stream: pending, lag, consumers
  inspect events         the events in the streams, newest first, filtered; --follow tails them
  inspect dead-letters   events listeners gave up on; replay or delete them

Reading never joins a consumer group nor takes a call, so inspecting a production bus disturbs no one.

${PATTERNS_HELP} Here patterns narrow the APIs, queues and groups shown; processes are always all shown.

With --json, one object per line, each with a "kind": "process", "api", "queue", "group" (the fields of the matching command's JSON) or "dead-letters" (stream, count).

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override usage = '[PATTERN...] [--json]';
  static override examples = ['<%= config.bin %> inspect', '<%= config.bin %> inspect "auth*" --json | jq -c \'select(.kind == "group")\''];
  static override strict = false;
  static override args = {
    patterns: Args.string({ description: 'API or event patterns narrowing what is shown (any number)' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Inspect);
    const patterns = this.memberPatterns(argv as string[]);
    const { processes, apis, queues, groups, deadLetters, deadLetterStream } = await this.withInspector(async (inspector) => {
      const [processes, apis, queues, groups, deadLetters] = await Promise.all([
        inspector.processes(),
        inspector.apis(patterns),
        inspector.queues(patterns),
        inspector.groups(patterns),
        inspector.deadLetterCount(),
      ]);
      return { processes, apis, queues, groups, deadLetters, deadLetterStream: inspector.config.events.deadLetterStream };
    });
    const { printer } = this;
    printer.rows(processes, PROCESS_COLUMNS, (row) => ({ kind: 'process', ...row }), { title: 'PROCESSES', empty: '(none)' });
    printer.note('');
    printer.rows(apis, API_COLUMNS, (row) => ({ kind: 'api', ...row }), { title: 'APIS', empty: '(none)' });
    printer.note('');
    printer.rows(queues, QUEUE_COLUMNS, (row) => ({ kind: 'queue', ...row }), { title: 'RPC QUEUES', empty: '(none)' });
    printer.note('');
    printer.rows(groups, GROUP_COLUMNS, (row) => ({ kind: 'group', ...row }), { title: 'CONSUMER GROUPS', empty: '(none)' });
    printer.note('');
    if (printer.json) printer.jsonLine({ kind: 'dead-letters', stream: deadLetterStream, count: deadLetters });
    else printer.line(`DEAD LETTERS: ${deadLetters} in ${deadLetterStream}${deadLetters > 0 ? ' (see: inspect dead-letters)' : ''}`);
  }
}
