/**
 * What the operating commands (`call`, `fire`, `inspect ...`) share: `--json`, errors with
 * the exit codes of ./exit-codes.ts, a logger that keeps stdout for results, and connecting to Redis
 * with a clear failure instead of the bus's patient reconnecting.
 *
 * `--json` is oclif's (`enableJsonFlag`): `run()` returns the command's typed result (what an
 * in-process caller such as `runCommand` gets back) and oclif hands it to {@link logJson},
 * which prints it as JSON lines; for people, `run()` prints it with the {@link Printer}.
 */
import { Flags, type Command } from '@oclif/core';
import pino, { type Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { LightbusError } from '../errors.js';
import { Inspector } from '../inspect/inspector.js';
import { parseMemberPattern, type MemberPattern } from '../inspect/patterns.js';
import type { Bus } from '../client/bus.js';
import { createBus } from '../client/create-bus.js';
import { memberSchema } from '../inspect/apis.js';
import { checkReachable } from '../inspect/connection.js';
import { LightbusCommand } from './base-command.js';
import { Printer } from './output.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { parseMemberName, parseParams, preferSchemaTypes, UsageError } from './params.js';

export abstract class OpsCommand<T extends typeof Command> extends LightbusCommand<T> {
  static override enableJsonFlag = true;
  // Replaces oclif's own `--json` definition (same flag), for the help text and group.
  static override baseFlags = {
    ...LightbusCommand.baseFlags,
    json: Flags.boolean({ description: 'Print one JSON object per line (for scripts) instead of tables', helpGroup: 'OUTPUT' }),
  };

  private printerInstance: Printer | undefined;
  private stderrLogger: Logger | undefined;

  protected get printer(): Printer {
    this.printerInstance ??= new Printer(this.jsonEnabled());
    return this.printerInstance;
  }

  override async init(): Promise<void> {
    // `lightbus inspect events --json | head -1` closes the pipe early: that is a normal end.
    // Once per process: commands run in-process (tests) would otherwise pile up listeners.
    if (!process.stdout.listeners('error').includes(exitOnClosedPipe)) process.stdout.on('error', exitOnClosedPipe);
    await super.init();
  }

  /** The JSON lines of `run()`'s result: one per row of a list, else the result itself. */
  protected jsonLines(result: unknown): unknown[] {
    return Array.isArray(result) ? result : [result];
  }

  protected override toSuccessJson(result: unknown): unknown[] {
    return this.jsonLines(result);
  }

  /** One compact JSON value per line, for jq and scripts, instead of oclif's indented document. */
  protected override logJson(lines: unknown): void {
    for (const line of lines as unknown[]) this.printer.jsonLine(line);
  }

  /** The config, as `run` loads it; an invalid one exits with {@link ExitCode.unavailable}. */
  protected async opsConfig(): Promise<ResolvedConfig> {
    return this.loadConfig();
  }

  /** Logs go to stderr, so stdout holds only results; silent unless `--log-level` asks. */
  protected opsLogger(): Logger {
    const level = (this.flags as { 'log-level'?: string })['log-level'] ?? 'silent';
    this.stderrLogger ??= pino({ level, base: {} }, pino.destination({ dest: 2, sync: true }));
    return this.stderrLogger;
  }

  /** Opens an {@link Inspector} on the configured Redis, runs `use`, and closes it whatever happens. */
  protected async withInspector<R>(use: (inspector: Inspector) => Promise<R>): Promise<R> {
    const inspector = await Inspector.open(await this.opsConfig(), this.opsLogger());
    try {
      return await use(inspector);
    } finally {
      await inspector.close();
    }
  }

  /**
   * What `call` and `fire` share: `API.MEMBER [KEY=VALUE...]` parsed, Redis checked, a bus
   * connected, the parameters typed by the member's schema, and the bus closed afterwards.
   */
  protected async withMemberBus<R>(
    argv: string[],
    kind: 'rpcs' | 'events',
    paramsJson: string | undefined,
    use: (target: { bus: Bus; api: string; member: string; params: Record<string, unknown>; config: ResolvedConfig }) => Promise<R>,
  ): Promise<R> {
    const [text, ...items] = argv;
    const { api, member } = parseMemberName(text!);
    const parsed = parseParams(items, paramsJson);
    const config = await this.opsConfig();
    const logger = this.opsLogger();
    await checkReachable(config.redis, logger);
    const bus = createBus({ resolvedConfig: config, logger });
    try {
      const schema = memberSchema(await bus.schemas(), api, kind, member)?.parameters;
      return await use({ bus, api, member, params: preferSchemaTypes(parsed, schema), config });
    } finally {
      await bus.close();
    }
  }

  /** `API.MEMBER` patterns given as arguments (`auth.*`, `*.user_*`). */
  protected memberPatterns(texts: readonly string[]): MemberPattern[] {
    return texts.map((text) => this.parseArg(`pattern "${text}"`, () => parseMemberPattern(text)));
  }

  /** Runs a parser, turning its complaint (a TypeError) into a usage error. */
  protected parseArg<R>(what: string, parse: () => R): R {
    try {
      return parse();
    } catch (error) {
      if (error instanceof TypeError || error instanceof UsageError) throw new UsageError(`${what}: ${error.message}`);
      throw error;
    }
  }

  /**
   * Prints the error (as JSON on stderr with `--json`) and exits with its code. oclif's own
   * errors (usage) are thrown on for oclif to print: with `--json` its catch would print them
   * on stdout, which scripts read for results.
   */
  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if ((error as { oclif?: unknown }).oclif) {
      if (this.jsonEnabled()) throw error;
      return super.catch(error);
    }
    const code = exitCodeFor(error);
    if (this.jsonEnabled()) {
      const data = error instanceof LightbusError ? error.toData() : undefined;
      // Not logToStderr: oclif silences it under --json.
      process.stderr.write(`${JSON.stringify({ error: { name: error.name, message: error.message, exitCode: code, ...(data ? { data } : {}) } })}\n`);
    } else {
      this.logToStderr(`Error: ${error.message}`);
      const level = (this.flags as { 'log-level'?: string } | undefined)?.['log-level'];
      if ((level === 'debug' || level === 'trace') && error.stack) this.logToStderr(error.stack);
    }
    return this.exit(code);
  }
}

function exitOnClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
}
