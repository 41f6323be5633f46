import pino from 'pino';
import { LightbusCommand } from '../cli/base-command.js';
import { ExitCode, exitCodesHelp } from '../cli/exit-codes.js';
import { createBus } from '../client/create-bus.js';
import type { ResolvedConfig } from '../config/schema.js';
import { redactUrl } from '../core/redact-url.js';
import { checkReachable, RedisUnreachableError } from '../inspect/connection.js';
import { paint } from '../shell/format.js';
import { shortLogLines } from '../shell/log-lines.js';
import { historyFilePath, runShell } from '../shell/session.js';

/** After this long without a connection the shell says what it is waiting for. */
const SLOW_CONNECT_NOTICE_MS = 3000;

export default class Shell extends LightbusCommand<typeof Shell> {
  static override summary = 'An interactive shell with a connected bus: call RPCs, fire events, read the schemas on the bus';
  static override description = `A Node.js REPL with a connected \`bus\` (config found as for \`run\`) and top-level await. Every API on the bus (remote ones included) is in scope under its name: \`await auth.check_password({ username: 'admin', password: 'secret' })\` calls the RPC, \`auth.user_registered({ ... })\` fires the event; \`api('my_company.auth')\` gives the same object by name, and \`bus.call('auth.check_password', { ... })\` works as in code. A line whose value is a promise is awaited.

Tab completes API names, RPCs and events (also inside \`bus.call('…\` and \`bus.fire('…\`). \`.apis\` lists the APIs with a signature per RPC and event; \`.schema auth.check_password\` prints a member's JSON Schema. Errors print their name and message (and a remote handler's stack) and the shell goes on.

Ctrl-C stops waiting for a call (the call may still run on its server); Ctrl-D or .exit leaves. History is kept in ~/.lightbus_history (env LIGHTBUS_HISTORY: another file; empty: none).

When stdin is not a terminal, its lines run one after the other, each once the previous is done, results printed (no prompts), and the shell exits at the end of input: exit code 0 if every line succeeded, 1 otherwise. Ctrl-C then stops the script, as for any script. Logs (warnings of the bus) go to stderr.

${exitCodesHelp(['ok', 'failed', 'usage', 'unavailable'], { failed: 'a line failed (stdin not a terminal)' })}`;
  static override examples = [
    '<%= config.bin %> shell',
    '<%= config.bin %> shell --redis-url redis://redis.internal:6379/0',
    `echo "await auth.check_password({ username: 'admin', password: 'secret' })" | <%= config.bin %> shell`,
  ];

  async run(): Promise<void> {
    const config = await this.loadConfig();
    // Logs go to stderr, one short line each, so they never mix with results on stdout.
    const logger = pino({ level: config.logLevel, base: null }, shortLogLines(process.stderr, process.stderr.isTTY === true));
    // A script has nobody to press Ctrl-C: without Redis it fails at once, as `lightbus call` does.
    if (process.stdin.isTTY !== true) await this.failUnlessReachable(config, logger);
    const bus = createBus({ resolvedConfig: config, logger });
    const slow = setTimeout(() => process.stderr.write(`Waiting for Redis at ${redactUrl(config.redis.url)} (Ctrl-C to give up)...\n`), SLOW_CONNECT_NOTICE_MS);
    try {
      const apis = Object.keys(await bus.schemas()).sort();
      clearTimeout(slow);
      const outcome = await runShell({
        bus,
        input: process.stdin,
        output: process.stdout,
        historyPath: historyFilePath(),
        banner: banner(config, apis, process.stdout.isTTY === true),
        notices: process.stderr,
      });
      if (!outcome.interactive && outcome.failures > 0) process.exitCode = 1;
    } finally {
      clearTimeout(slow);
      await bus.close(); // already closed when the shell was left; here for a failed start
    }
  }

  private async failUnlessReachable(config: ResolvedConfig, logger: pino.Logger): Promise<void> {
    try {
      await checkReachable(config.redis, logger);
    } catch (error) {
      if (!(error instanceof RedisUnreachableError)) throw error;
      this.logToStderr(`Error: ${error.message}`);
      this.exit(ExitCode.unavailable);
    }
  }
}

function banner(config: Omit<ResolvedConfig, 'source'>, apis: string[], colors: boolean): string {
  const shown = apis.length > 12 ? `${apis.slice(0, 12).join(', ')} and ${apis.length - 12} more` : apis.join(', ');
  return [
    `${paint('lightbus shell', 'bold', colors)}  service ${config.serviceName}, ${redactUrl(config.redis.url)}`,
    `APIs on the bus: ${shown || 'none yet'}. ${paint('.apis', 'cyan', colors)} lists them, ${paint('.schema api.member', 'cyan', colors)} shows one.`,
    `In scope: ${paint('bus', 'cyan', colors)}, ${paint('api(name)', 'cyan', colors)} and each API by name. Ctrl-C stops a wait, Ctrl-D leaves.`,
  ].join('\n');
}
