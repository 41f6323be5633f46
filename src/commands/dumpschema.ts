import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import pino from 'pino';
import { LightbusCommand } from '../cli/base-command.js';
import { ExitCode, exitCodesHelp } from '../cli/exit-codes.js';
import { redactUrl } from '../core/redact-url.js';
import { collectSchemas, writeSchemaDump } from '../schema/dump.js';

export default class DumpSchema extends LightbusCommand<typeof DumpSchema> {
  static override summary = 'Write the JSON Schema of every API on the bus, and in the modules given, to stdout, a file or a directory';
  static override description = `Reads the schemas that running processes publish on the bus (TypeScript and Python alike: a schema stays while its process runs, and expires about 60 s after it stops). With MODULES, also imports them, without serving anything, and adds every API they export, serve or use; a module's definition wins over the bus's copy of the same API.

The output is one JSON document { "<api>": { "rpcs": {...}, "events": {...} } } of draft-07 JSON Schemas, on stdout or in FILE. With a directory (an existing one, or a path ending in "/"), one <api>.json per API, each holding the same document for that one API: Python Lightbus reads both layouts. A summary line goes to stderr.

${exitCodesHelp(['ok', 'failed', 'usage', 'notFound', 'unavailable'], { ok: 'written', failed: 'a module failed to load', notFound: 'no schema found, or a module file does not exist' })}`;
  static override examples = [
    { description: 'Every API on the bus, on stdout', command: '<%= config.bin %> dumpschema' },
    { description: 'One file', command: '<%= config.bin %> dumpschema --out schemas.json' },
    { description: 'One file per API, in a directory', command: '<%= config.bin %> dumpschema --out schemas/' },
    { description: 'The bus plus the APIs your modules define', command: '<%= config.bin %> dumpschema ./bus.ts --out schemas.json' },
    { description: 'Only your modules, without Redis', command: '<%= config.bin %> dumpschema ./bus.ts --no-bus' },
  ];
  static override strict = false;
  static override args = {
    modules: Args.string({ description: 'Modules whose APIs are added (optional); imported, never served', required: false }),
  };
  static override flags = {
    out: Flags.string({ char: 'o', helpValue: 'FILE|DIR', description: 'Write to FILE, or one <api>.json per API into DIR (existing, or ending in "/"); default stdout' }),
    bus: Flags.boolean({ default: true, allowNo: true, description: 'Read the schemas published on the bus; --no-bus reads only the modules given' }),
    timeout: Flags.integer({ min: 1, default: 10_000, description: 'How long to wait for Redis, and for the modules to load (milliseconds)' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(DumpSchema);
    const modules = (argv as string[]).map((m) => resolve(m));
    for (const path of modules) if (!existsSync(path)) this.error(`module not found: ${path}`, { exit: ExitCode.notFound });
    const config = await this.loadConfig();
    let readBus = this.flags.bus;
    if (readBus && config.transport === 'memory') {
      this.logToStderr('The config selects the memory transport: there is no shared bus to read, only the modules given.');
      readBus = false;
    }
    if (!readBus && modules.length === 0) this.error('nothing to read: give the modules that define your APIs, or drop --no-bus to read the bus', { exit: 2 });
    if (readBus) await this.requireRedis(config, this.flags.timeout);
    const busUrl = redactUrl(config.redis.url);
    // stdout may carry the dump: log lines (connection trouble) go to stderr, errors only unless asked.
    const logger = pino({ level: this.flags['log-level'] ?? 'error' }, pino.destination({ dest: 2, sync: true }));
    const collected = await collectSchemas({ config, logger, readBus, modules, timeoutMs: this.flags.timeout });
    const count = Object.keys(collected.schemas).length;
    if (count === 0) {
      this.error(
        readBus
          ? `no API schemas on the bus at ${busUrl}: no process is serving any API there. Start one with \`lightbus run ./your-module.ts\` (a schema expires about 60 s after its process stops), check --redis-url, or pass the modules that define your APIs: \`lightbus dumpschema ./bus.ts\`.`
          : `the modules given define no API: export the result of defineApi(), or serve it with bus.serve()`,
        { exit: ExitCode.notFound },
      );
    }
    const written = writeSchemaDump(collected.schemas, this.flags.out, (text) => process.stdout.write(text));
    const origin = [
      ...(readBus ? [`${collected.fromBus.length} from the bus at ${busUrl}`] : []),
      ...(modules.length ? [`${collected.local.length} from the modules`] : []),
    ].join(', ');
    const where = written.kind === 'directory' ? `${written.files.length} file${written.files.length === 1 ? '' : 's'} in ${written.target}` : written.target;
    this.logToStderr(`Schemas of ${count} API${count === 1 ? '' : 's'} (${origin}) written to ${where}: ${Object.keys(collected.schemas).join(', ')}`);
  }
}
