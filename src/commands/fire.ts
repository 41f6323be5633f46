import { Args, Flags } from '@oclif/core';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { OpsCommand } from '../cli/ops-command.js';
import type { Column } from '../cli/output.js';
import { keyLayoutOf } from '../transport/wire/key-layout.js';

/** What `fire` answers: where the event went. */
export interface Fired {
  api: string;
  event: string;
  id: string;
  stream: string;
  streamId: string;
}

const COLUMNS: Column<Fired>[] = [
  { header: 'EVENT', value: (f) => `${f.api}.${f.event}` },
  { header: 'MESSAGE ID', value: (f) => f.id },
  { header: 'STREAM', value: (f) => f.stream },
  { header: 'STREAM ID', value: (f) => f.streamId },
];

export default class Fire extends OpsCommand<typeof Fire> {
  static override summary = 'Fire an event on the bus and print its ids';
  static override description = `Fires API.EVENT with the given parameters and prints its message id (the event's "id") and the id of its entry in the stream, once Redis has it. Every listening service gets it, as if a service had fired it.

Parameters are KEY=VALUE items, the value read as JSON where it parses as JSON and as a string otherwise (n=7 is a number, ok=true a boolean, tags='["a","b"]' an array, name=ada a string; quote to force a string: code='"007"'). When the API's schema says a parameter is a string, the text is kept as typed. --params gives them all as one JSON object; KEY=VALUE items override it. The parameters are validated against the schema published on the bus before the event is written.

${exitCodesHelp(['ok', 'usage', 'timeout', 'notFound', 'unavailable'])}`;
  static override examples = [
    '<%= config.bin %> fire auth.user_registered username=ada email=ada@example.com',
    `<%= config.bin %> fire auth.user_registered --params '{"username": "ada", "email": "ada@example.com"}' --json`,
  ];
  static override usage = 'API.EVENT [KEY=VALUE...] [--params JSON] [--timeout MS] [--json]';
  static override strict = false;
  static override args = {
    event: Args.string({ description: 'The event, as API.EVENT (e.g. auth.user_registered)', required: true }),
    params: Args.string({ description: 'Parameters, as KEY=VALUE items (any number)' }),
  };
  static override flags = {
    params: Flags.string({ char: 'p', description: 'Parameters as one JSON object; KEY=VALUE items override its keys' }),
    timeout: Flags.integer({ char: 't', min: 1, description: "How long writing the event may take, in ms (default: the API's fireTimeoutMs, 5000)" }),
  };

  async run(): Promise<Fired> {
    const { argv } = await this.parse(Fire);
    const options = this.flags.timeout !== undefined ? { timeoutMs: this.flags.timeout } : {};
    const fired = await this.withMemberBus(argv as string[], 'events', this.flags.params, async ({ bus, api, member, params, config }) => {
      const { id, streamId } = await bus.fire(`${api}.${member}`, params, options);
      return { api, event: member, id, stream: keyLayoutOf(config.redis).stream(api, member, config.events.streamUse), streamId };
    });
    this.printer.table([fired], COLUMNS);
    return fired;
  }
}
