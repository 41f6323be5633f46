/**
 * The shell's dot-commands: `.apis` lists the APIs on the bus with a signature per RPC and
 * event; `.schema <api>` or `.schema <api.member>` prints the JSON Schema as published.
 */
import type { REPLServer } from 'node:repl';
import type { ApiSchema } from '../api/define.js';
import { describeApi, paint, type FormatOptions } from './format.js';

export interface CommandDeps {
  /** The schemas on the bus, fresh. */
  schemas(): Promise<Record<string, ApiSchema>>;
  /** Counts a running command as busy, so piped input waits for it. */
  track(work: Promise<unknown>): Promise<void>;
  format: FormatOptions;
  /** Prints an error the way lines' errors print. */
  printError(error: unknown): void;
}

export function defineShellCommands(server: REPLServer, deps: CommandDeps): void {
  const run = (work: () => Promise<string>) => {
    void deps.track(
      work()
        .then((text) => server.output.write(`${text}\n`))
        .catch((error: unknown) => deps.printError(error))
        .finally(() => server.displayPrompt()),
    );
  };

  server.defineCommand('apis', {
    help: 'List the APIs on the bus, with their RPCs and events',
    action(filter: string) {
      run(async () => listApis(await deps.schemas(), filter.trim(), deps.format));
    },
  });

  server.defineCommand('schema', {
    help: 'Print the JSON Schema of an API or a member: .schema auth, .schema auth.check_password',
    action(name: string) {
      run(async () => schemaText(await deps.schemas(), name.trim(), deps.format));
    },
  });
}

/** The text of `.apis [prefix]`. */
export function listApis(schemas: Record<string, ApiSchema>, prefix: string, format: FormatOptions): string {
  const names = Object.keys(schemas)
    .filter((name) => name.startsWith(prefix))
    .sort();
  if (names.length === 0) {
    return prefix ? `No API on the bus starts with "${prefix}".` : 'No APIs on the bus yet (none has published a schema).';
  }
  return names.map((name) => describeApi(name, schemas[name]!, format)).join('\n');
}

/** The text of `.schema <name>`: a whole API, or one RPC (parameters and response) or event. */
export function schemaText(schemas: Record<string, ApiSchema>, name: string, format: FormatOptions): string {
  if (!name) return 'Usage: .schema <api> or .schema <api.member>, e.g. .schema auth.check_password';
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  if (schemas[name]) return json(schemas[name]);
  const dot = name.lastIndexOf('.');
  const api = dot > 0 ? schemas[name.slice(0, dot)] : undefined;
  const member = name.slice(dot + 1);
  if (!api) {
    const known = Object.keys(schemas).sort().join(', ') || 'none';
    return `${paint('Unknown API', 'red', format.colors)} in "${name}" (APIs on the bus: ${known})`;
  }
  const rpc = api.rpcs?.[member];
  if (rpc) return json({ rpc: name, parameters: rpc.parameters, response: rpc.response });
  const event = api.events?.[member];
  if (event) return json({ event: name, parameters: event.parameters });
  const members = [...Object.keys(api.rpcs ?? {}), ...Object.keys(api.events ?? {})].sort().join(', ') || 'none';
  return `${paint('Unknown member', 'red', format.colors)} "${member}" of ${name.slice(0, dot)} (its RPCs and events: ${members})`;
}
