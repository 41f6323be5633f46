/**
 * `lightbus shell`: a Node REPL with a connected bus. It puts `bus`, `api()` and one object per
 * API on the bus in scope, completes the names on the bus, awaits promises a line evaluates
 * to, prints errors without dying, keeps a history file, and closes the bus when it is left
 * so the process exits by itself. A terminal gets line editing, colours and Ctrl-C; anything
 * else (a script piped in) is run line by line, results printed, and the shell exits at its end.
 */
import { once } from 'node:events';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { start as startRepl, type REPLServer } from 'node:repl';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Context } from 'node:vm';
import type { ApiSchema } from '../api/define.js';
import type { Bus } from '../client/bus.js';
import { ApiObjects } from './api-objects.js';
import { defineShellCommands } from './commands.js';
import { completeBusNames, type Completion } from './completion.js';
import { installEvaluator } from './evaluator.js';
import { formatError, formatValue, paint, type FormatOptions } from './format.js';
import { feedLines } from './line-feed.js';

export interface ShellOptions {
  /** A connected bus; the shell closes it when it is left. */
  bus: Bus;
  input: Readable & { isTTY?: boolean };
  output: Writable & { isTTY?: boolean; columns?: number };
  /** The history file; `undefined` or `''` keeps no history. Only a terminal session writes it. */
  historyPath?: string;
  /** Printed first, in a terminal session. */
  banner?: string;
  /** Where the shell's own notices go (history problems); default the output. */
  notices?: Writable;
}

export interface ShellOutcome {
  /** Whether input was a terminal. */
  interactive: boolean;
  /** Lines that failed (errors, syntax errors, cancelled waits). */
  failures: number;
}

/** Names the shell puts in scope; API objects never take them. */
const RESERVED = new Set(['bus', 'api', '_', '_error']);

/** The history file: `LIGHTBUS_HISTORY` if set (empty: none), else `~/.lightbus_history`. */
export function historyFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env['LIGHTBUS_HISTORY'] ?? join(homedir(), '.lightbus_history');
}

/** Runs the shell until it is left (Ctrl-D, `.exit`, end of piped input), then closes the bus. */
export async function runShell(options: ShellOptions): Promise<ShellOutcome> {
  const { bus, output } = options;
  const interactive = options.input.isTTY === true && output.isTTY === true;
  const format: FormatOptions = { colors: interactive, ...(output.columns ? { columns: output.columns } : {}) };
  const schemas = () => bus.schemas();
  let failures = 0;

  if (interactive && options.banner) output.write(`${options.banner}\n`);
  // Piped input is fed through a stream we control, one line at a time (see line-feed.ts).
  const replInput = interactive ? options.input : new PassThrough();
  const server = startRepl({
    input: replInput,
    output,
    prompt: interactive ? paint('lightbus> ', 'cyan', format.colors) : '',
    terminal: interactive,
    useColors: format.colors,
    ignoreUndefined: true,
    // Lets Ctrl-C stop a wait. Only for a terminal: Node's SIGINT watchdog resets the signal's
    // handler, so without a terminal a Ctrl-C (a real signal then) stops the script, as usual.
    breakEvalOnSigint: interactive,
    preview: interactive,
    writer: (value: unknown) => formatValue(value, format),
  });
  if (!interactive) server.displayPrompt = () => undefined; // no "> " and "... " in a script's output

  const printError = (error: unknown) => output.write(`${formatError(error, format)}\n`);
  const apiObjects = new ApiObjects(bus, format, RESERVED);
  let lastSchemas: Record<string, ApiSchema> = {};
  const refreshScope = async () => {
    lastSchemas = await schemas();
    apiObjects.update(lastSchemas, server.context as Record<string, unknown>);
  };
  const setUpScope = (context: Context) => {
    Object.defineProperty(context, 'bus', { value: bus, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(context, 'api', { value: (name: string) => apiObjects.api(name), writable: true, enumerable: true, configurable: true });
  };
  setUpScope(server.context);
  await refreshScope();
  // `.clear` makes a new scope.
  server.on('reset', (context: Context) => {
    setUpScope(context);
    void refreshScope().catch(() => undefined);
  });

  const evaluator = installEvaluator(server, {
    printError,
    printInterrupted: () =>
      output.write(`${paint('Interrupted', 'yellow', format.colors)}: stopped waiting (Ctrl-C). A call already sent may still run on its server.\n`),
    onFailure: () => failures++,
    onLineDone: () => void refreshScope().catch(() => undefined),
  });
  defineShellCommands(server, { schemas, track: (work) => evaluator.track(work), format, printError });
  completeFromTheBus(server, schemas, lastSchemas, (path) => apiObjects.membersAt(server.context as Record<string, unknown>, path));

  if (interactive && options.historyPath) {
    const notices = options.notices ?? output;
    server.setupHistory(options.historyPath, (error: Error | null) => {
      if (error) notices.write(`history: could not use ${options.historyPath}: ${error.message}\n`);
    });
  }

  const exited = once(server, 'exit');
  const feed = interactive ? undefined : feedLines(options.input, replInput as PassThrough, server, evaluator);

  await exited;
  feed?.stop();
  await evaluator.idle();
  await bus.close();
  if (feed) await feed.finished;
  return { interactive, failures };
}

/**
 * Bus names first; Node's completer (scope, properties, dot-commands) for everything else.
 * Ours answers synchronously from the last schemas seen (refreshed as it goes), so keys typed
 * right after a Tab always land after the completion.
 */
function completeFromTheBus(
  server: REPLServer,
  schemas: () => Promise<Record<string, ApiSchema>>,
  initial: Record<string, ApiSchema>,
  membersAt: (path: string[]) => string[] | undefined,
): void {
  type Callback = (error: Error | null, completion?: Completion) => void;
  const nodeCompleter = server.completer as unknown as (line: string, callback: Callback) => void;
  let known = initial;
  const completer = (line: string, callback: Callback) => {
    schemas().then(
      (current) => (known = current),
      () => undefined,
    );
    const ours = completeBusNames(line, { schemas: known, membersAt });
    if (ours) callback(null, ours);
    else nodeCompleter.call(server, line, callback);
  };
  (server as unknown as { completer: typeof completer }).completer = completer;
}
