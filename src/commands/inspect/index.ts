import { Args } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import { PATTERNS_HELP } from '../../inspect/patterns.js';
import type { ApiRow } from '../../inspect/apis.js';
import type { GroupRow } from '../../inspect/groups.js';
import type { ProcessRow } from '../../inspect/processes.js';
import type { QueueRow } from '../../inspect/queues.js';
import { API_COLUMNS, GROUP_COLUMNS, PROCESS_COLUMNS, QUEUE_COLUMNS } from '../../cli/inspect-columns.js';

/** Everything on the bus at a glance: what `inspect` answers. */
export interface BusOverview {
  processes: ProcessRow[];
  apis: ApiRow[];
  queues: QueueRow[];
  groups: GroupRow[];
  deadLetters: { stream: string; count: number };
}

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

  async run(): Promise<BusOverview> {
    const { argv } = await this.parse(Inspect);
    const patterns = this.memberPatterns(argv as string[]);
    const overview = await this.withInspector(async (inspector): Promise<BusOverview> => {
      const [processes, apis, queues, groups, count] = await Promise.all([
        inspector.processes(),
        inspector.apis(patterns),
        inspector.queues(patterns),
        inspector.groups(patterns),
        inspector.deadLetterCount(),
      ]);
      return { processes, apis, queues, groups, deadLetters: { stream: inspector.config.events.deadLetterStream, count } };
    });
    const { printer } = this;
    const { processes, apis, queues, groups, deadLetters } = overview;
    printer.table(processes, PROCESS_COLUMNS, { title: 'PROCESSES', empty: '(none)' });
    printer.note('');
    printer.table(apis, API_COLUMNS, { title: 'APIS', empty: '(none)' });
    printer.note('');
    printer.table(queues, QUEUE_COLUMNS, { title: 'RPC QUEUES', empty: '(none)' });
    printer.note('');
    printer.table(groups, GROUP_COLUMNS, { title: 'CONSUMER GROUPS', empty: '(none)' });
    printer.note('');
    printer.note(`DEAD LETTERS: ${deadLetters.count} in ${deadLetters.stream}${deadLetters.count > 0 ? ' (see: inspect dead-letters)' : ''}`);
    return overview;
  }

  /** One line per row, each with its "kind", then the dead-letter count. */
  protected override jsonLines(overview: BusOverview): unknown[] {
    return [
      ...overview.processes.map((row) => ({ kind: 'process', ...row })),
      ...overview.apis.map((row) => ({ kind: 'api', ...row })),
      ...overview.queues.map((row) => ({ kind: 'queue', ...row })),
      ...overview.groups.map((row) => ({ kind: 'group', ...row })),
      { kind: 'dead-letters', ...overview.deadLetters },
    ];
  }
}
