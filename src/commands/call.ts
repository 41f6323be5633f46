import { Args, Flags } from '@oclif/core';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { OpsCommand } from '../cli/ops-command.js';

/** What `call` answers: the RPC and its result. */
export interface CallResult {
  api: string;
  procedure: string;
  result: unknown;
}

export default class Call extends OpsCommand<typeof Call> {
  static override summary = 'Call an RPC on the bus and print its result as JSON';
  static override description = `Calls API.PROCEDURE on whichever process serves it (in TypeScript or Python) and prints the result as JSON: indented by default, on one line with --json.

Parameters are KEY=VALUE items, the value read as JSON where it parses as JSON and as a string otherwise (n=7 is a number, ok=true a boolean, tags='["a","b"]' an array, name=ada a string; quote to force a string: code='"007"'). When the API's schema says a parameter is a string, the text is kept as typed (code=007 stays "007"). --params gives them all as one JSON object; KEY=VALUE items override it.

The parameters are validated against the schema published on the bus before anything is sent, and the result when it arrives. Errors go to stderr (as a JSON object with --json).

${exitCodesHelp(['ok', 'failed', 'usage', 'timeout', 'notFound', 'unavailable'], { failed: 'remote error: the handler failed (threw, crashed, or ran past its deadline)' })}`;
  static override examples = [
    '<%= config.bin %> call auth.check_password username=admin password=secret',
    `<%= config.bin %> call auth.check_password --params '{"username": "admin", "password": "secret"}'`,
    '<%= config.bin %> call billing.invoice id=7 --timeout 10000 --json | jq .total',
  ];
  static override usage = 'API.PROCEDURE [KEY=VALUE...] [--params JSON] [--timeout MS] [--json]';
  static override strict = false;
  static override args = {
    rpc: Args.string({ description: 'The RPC, as API.PROCEDURE (e.g. auth.check_password)', required: true }),
    params: Args.string({ description: 'Parameters, as KEY=VALUE items (any number)' }),
  };
  static override flags = {
    params: Flags.string({ char: 'p', description: 'Parameters as one JSON object; KEY=VALUE items override its keys' }),
    timeout: Flags.integer({ char: 't', min: 1, description: "How long to wait for the result, in ms (default: the API's rpcTimeoutMs, 5000)" }),
  };

  async run(): Promise<CallResult> {
    const { argv } = await this.parse(Call);
    const options = this.flags.timeout !== undefined ? { timeoutMs: this.flags.timeout } : {};
    const answer = await this.withMemberBus(argv as string[], 'rpcs', this.flags.params, async ({ bus, api, member, params }) => ({
      api,
      procedure: member,
      result: (await bus.call(`${api}.${member}`, params, options)) ?? null,
    }));
    this.printer.value(answer.result);
    return answer;
  }

  /** With --json, the result alone, as before: scripts pipe it to jq. */
  protected override jsonLines(answer: CallResult): unknown[] {
    return [answer.result];
  }
}
