/**
 * What the operating commands (`call`, `fire`, `inspect ...`) share: `--json`, errors with
 * the exit codes of ./exit-codes.ts, a logger that keeps stdout for results, and connecting to Redis
 * with a clear failure instead of the bus's patient reconnecting.
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
  static override baseFlags = {
    ...LightbusCommand.baseFlags,
    json: Flags.boolean({ description: 'Print one JSON object per line (for scripts) instead of tables', helpGroup: 'OUTPUT' }),
  };

  private printerInstance: Printer | undefined;
  private stderrLogger: Logger | undefined;

  protected get printer(): Printer {
    this.printerInstance ??= new Printer(this.jsonOutput());
    return this.printerInstance;
  }

  override async init(): Promise<void> {
    // `lightbus inspect events --json | head -1` closes the pipe early: that is a normal end.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(ExitCode.ok);
    });
    await super.init();
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

  /** Prints the error (as JSON on stderr with `--json`) and exits with its code. */
  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if ((error as { oclif?: unknown }).oclif) return super.catch(error);
    const code = exitCodeFor(error);
    if (this.jsonOutput()) {
      const data = error instanceof LightbusError ? error.toData() : undefined;
      this.logToStderr(JSON.stringify({ error: { name: error.name, message: error.message, exitCode: code, ...(data ? { data } : {}) } }));
    } else {
      this.logToStderr(`Error: ${error.message}`);
      const level = (this.flags as { 'log-level'?: string } | undefined)?.['log-level'];
      if ((level === 'debug' || level === 'trace') && error.stack) this.logToStderr(error.stack);
    }
    return this.exit(code);
  }

  private jsonOutput(): boolean {
    if (this.flags) return Boolean((this.flags as { json?: boolean }).json);
    return this.argv.includes('--json');
  }
}
