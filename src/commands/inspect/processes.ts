import { Flags } from '@oclif/core';
import { exitCodesHelp } from '../../cli/exit-codes.js';
import { OpsCommand } from '../../cli/ops-command.js';
import { SILENT_AFTER_BEATS, type ProcessRow } from '../../inspect/processes.js';
import { PROCESS_COLUMNS } from '../../cli/inspect-columns.js';

export default class InspectProcesses extends OpsCommand<typeof InspectProcesses> {
  static override summary = 'List the processes on the bus, from their heartbeats';
  static override description = `Every bus process (lightbus run, or createBus() in any program) writes a heartbeat every few seconds to the Redis hash lightbus:processes: its service, process name, host, pid, lightbus version, the APIs it serves, its listeners, its scheduled tasks, its worker threads and when it started.

A process is live while its last heartbeat is younger than ${SILENT_AFTER_BEATS} of its intervals; after that it is shown as silent: it stopped without a clean exit, hangs, or lost Redis. A clean stop removes the entry at once; silent entries are dropped after a day.

JSON fields: service, process, host, pid, version, apis, listeners, tasks (each: name, everyMs or cron, nextRunAt as of the heartbeat, running), workers, startedAt, lastSeen, intervalMs, status ("live" or "silent"), lastSeenAgoMs, uptimeMs.

${exitCodesHelp(['ok', 'usage', 'unavailable'])}`;
  static override examples = [
    '<%= config.bin %> inspect processes',
    '<%= config.bin %> inspect processes --service billing --status silent',
    "<%= config.bin %> inspect processes --json | jq -r 'select(.status == \"silent\") | .process'",
  ];
  static override flags = {
    service: Flags.string({ char: 's', description: 'Only processes of services matching this glob (* and ?)' }),
    status: Flags.option({ options: ['live', 'silent'] as const, description: 'Only live or only silent processes' })(),
  };

  async run(): Promise<ProcessRow[]> {
    const rows = await this.withInspector((inspector) =>
      inspector.processes({
        ...(this.flags.service !== undefined ? { service: this.flags.service } : {}),
        ...(this.flags.status !== undefined ? { status: this.flags.status } : {}),
      }),
    );
    this.printer.table(rows, PROCESS_COLUMNS, { empty: 'No processes match.' });
    return rows;
  }
}
