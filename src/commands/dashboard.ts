import { Flags } from '@oclif/core';
import { LightbusCommand } from '../cli/base-command.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { UsageError } from '../cli/params.js';
import { startDashboard } from '../dashboard/server.js';
import { createLogOutput } from '../logging/logger.js';

export default class Dashboard extends LightbusCommand<typeof Dashboard> {
  static override summary = 'Serve a web page showing the live bus: processes, APIs, streams and groups, events, dead letters';
  static override description = `Serves a page (no build step, nothing fetched from elsewhere: it works offline) over what "lightbus inspect" reads, updated live by server-sent events:
  - processes from their heartbeats (live or silent, what each serves and listens to, workers, uptime);
  - APIs with their schemas as forms, who serves them, and a form to call an RPC (checked against the schema) and see its result;
  - event streams and consumer groups (length, lag, pending, consumers, idle time) with fired and handled per second over the last 5 minutes;
  - a live tail of events, filtered by API, event and time, each event's fields;
  - dead letters: inspect, replay one or all, delete (with confirmation).

It only reads (never joins a consumer group, never blocks a command on the bus); one poll every 2 seconds and one blocking event tail on a connection of its own run while a page is open, and stop when the last page closes.

Access: it binds to 127.0.0.1 by default and then answers only requests whose Host is loopback. Calls, replays and deletes always need the token (Authorization: Bearer TOKEN): without --auth-token a random one is made, and the URL printed at start carries it (after #, so it is not sent to the server in the request line). A --host that is not loopback needs --auth-token (or LIGHTBUS_DASHBOARD_TOKEN, or dashboard.authToken in the config), and then every request needs it. Tokens are at least 16 characters.

Stop it with Ctrl-C (SIGINT) or SIGTERM.

${exitCodesHelp(['ok', 'usage', 'unavailable'], { ok: 'stopped by a signal', usage: 'usage error, or a non-loopback --host without a token', unavailable: 'cannot reach Redis, the port is taken, or the config is invalid' })}`;
  static override examples = [
    '<%= config.bin %> dashboard',
    '<%= config.bin %> dashboard --port 8080',
    'LIGHTBUS_DASHBOARD_TOKEN=$(openssl rand -hex 24) <%= config.bin %> dashboard --host 0.0.0.0',
  ];
  static override flags = {
    port: Flags.integer({ char: 'p', min: 0, max: 65535, default: 4400, description: 'Port to listen on (0: any free port)' }),
    host: Flags.string({ default: '127.0.0.1', description: 'Address to bind; anything but loopback needs --auth-token' }),
    'auth-token': Flags.string({
      env: 'LIGHTBUS_DASHBOARD_TOKEN',
      description: 'Token for calls, replays and deletes (and every request off loopback); default: config dashboard.authToken, else a random one printed in the URL',
    }),
  };

  async run(): Promise<void> {
    const config = await this.loadConfig();
    const log = createLogOutput({ level: config.logLevel, base: { service: config.serviceName, process: 'dashboard' } });
    let dashboard;
    try {
      dashboard = await startDashboard({
        config,
        logger: log.logger,
        host: this.flags.host,
        port: this.flags.port,
        token: this.flags['auth-token'] ?? config.dashboard?.authToken,
      });
    } catch (error) {
      if (error instanceof TypeError) throw new UsageError(error.message);
      throw error;
    }
    // On stdout, plainly: people open it, and scripts (and tests) read the address from it.
    process.stdout.write(`lightbus dashboard: ${dashboard.urlWithToken}\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log.logger.info({ signal }, 'dashboard stopping');
    await dashboard.close();
    await log.flush();
    this.exit(0);
  }
}
