import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import pino from 'pino';
import { LightbusCommand } from '../cli/base-command.js';
import { ExitCode, exitCodesHelp } from '../cli/exit-codes.js';
import { redactUrl } from '../core/redact-url.js';
import { generateDeclarations, selectApis } from '../schema/codegen.js';
import { collectSchemas, readSchemaDump, type SchemaSet } from '../schema/dump.js';

export default class Codegen extends LightbusCommand<typeof Codegen> {
  static override summary = 'Generate TypeScript declarations for the APIs on the bus, so calls to them are type-checked';
  static override description = `Reads the schemas that running processes publish on the bus (those served by Python Lightbus too) and writes a declaration file that adds every RPC and event to lightbus's RemoteRpcs and RemoteEvents interfaces. With the file in your compilation, bus.call('auth.check_password', {...}) and bus.fire('auth.user_registered', {...}) check the parameters and type the result, like calls through a local definition. Names the file does not list stay untyped. Then, in your code:

  const ok = await bus.call('auth.check_password', { username: 'ada', password: 'secret' }); // ok: boolean

Types follow the JSON Schemas: optional parameters are those the server does not require, a date-time is a string (a Date is accepted when sending), titles, descriptions, formats, defaults and constraints become TSDoc. The output depends only on the schemas (sorted, no date), so it can be committed and regenerated in CI. Run it again when an API changes.

${exitCodesHelp(['ok', 'usage', 'notFound', 'unavailable'], { ok: 'written', notFound: 'no schema found, or an --api not on the bus' })}`;
  static override examples = [
    { description: 'Every API on the bus', command: '<%= config.bin %> codegen --out src/lightbus-remote.d.ts' },
    { description: 'Only some APIs', command: '<%= config.bin %> codegen --out src/lightbus-remote.d.ts --api auth --api billing' },
    { description: 'From a dump (no Redis needed, e.g. in CI)', command: '<%= config.bin %> codegen --from schemas.json --out src/lightbus-remote.d.ts' },
  ];
  static override flags = {
    out: Flags.string({ char: 'o', required: true, helpValue: 'FILE', description: 'The declaration file to write, e.g. src/lightbus-remote.d.ts (must be in your tsconfig); "-" for stdout' }),
    api: Flags.string({ char: 'a', multiple: true, helpValue: 'NAME', description: 'Only this API (repeat for several); default every API' }),
    from: Flags.string({ helpValue: 'FILE|DIR', description: 'Read the schemas from a `lightbus dumpschema` file or directory instead of the bus' }),
    timeout: Flags.integer({ min: 1, default: 10_000, description: 'How long to wait for Redis (milliseconds)' }),
  };

  async run(): Promise<void> {
    const { schemas, origin } = await this.readSchemas();
    const { selected, missing } = selectApis(schemas, this.flags.api ?? []);
    if (missing.length) {
      const known = Object.keys(schemas);
      this.error(
        `no schema for ${missing.map((m) => `"${m}"`).join(', ')} in ${origin} (${known.length ? `APIs there: ${known.join(', ')}` : 'none there'}): ` +
          'is a process serving it? Start it with `lightbus run`, and check the spelling of --api.',
        { exit: ExitCode.notFound },
      );
    }
    const generated = generateDeclarations(selected, { source: origin.startsWith('the bus') ? 'the API schemas on the bus' : origin });
    if (this.flags.out === '-') {
      process.stdout.write(generated.text);
      return;
    }
    const target = resolve(this.flags.out);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, generated.text);
    this.logToStderr(
      `Types for ${generated.rpcCount} RPC${generated.rpcCount === 1 ? '' : 's'} and ${generated.eventCount} event${generated.eventCount === 1 ? '' : 's'} ` +
        `of ${generated.apis.length} API${generated.apis.length === 1 ? '' : 's'} (${generated.apis.join(', ')}) written to ${target}`,
    );
  }

  private async readSchemas(): Promise<{ schemas: SchemaSet; origin: string }> {
    if (this.flags.from) return { schemas: readSchemaDump(this.flags.from), origin: this.flags.from };
    const config = await this.loadConfig();
    if (config.transport === 'memory') {
      this.error('the config selects the memory transport: there is no shared bus to read. Generate from a dump with --from schemas.json', { exit: ExitCode.unavailable });
    }
    await this.requireRedis(config, this.flags.timeout);
    const busUrl = redactUrl(config.redis.url);
    const logger = pino({ level: this.flags['log-level'] ?? 'error' }, pino.destination({ dest: 2, sync: true }));
    const { schemas } = await collectSchemas({ config, logger, readBus: true, modules: [], timeoutMs: this.flags.timeout });
    if (Object.keys(schemas).length === 0) {
      this.error(
        `no API schemas on the bus at ${busUrl}: no process is serving any API there. Start the services whose APIs you want typed ` +
          '(`lightbus run ./bus.ts`, or `lightbus run` of Python Lightbus; a schema expires about 60 s after its process stops), check --redis-url, or generate from a dump with --from schemas.json.',
        { exit: ExitCode.notFound },
      );
    }
    return { schemas, origin: `the bus at ${busUrl}` };
  }
}
