import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, Flags } from '@oclif/core';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { configJsonSchema } from '../schema/config-json-schema.js';

export default class DumpConfigSchema extends Command {
  static override summary = 'Write the JSON Schema of the lightbus configuration, for editors';
  static override description = `The schema that config files are validated against (draft-07 JSON Schema), with every key, its type, default and description, so an editor can complete and check lightbus.config.json, .lightbusrc or lightbus.config.yaml.

Point your editor at the file: in YAML, a first line "# yaml-language-server: $schema=./lightbus.schema.json"; in VS Code, the "json.schemas" setting with "fileMatch": [".lightbusrc", "lightbus.config.json"]. A lightbus.config.ts written with defineConfig() is typed already. With --json, the schema as JSON on stdout, or with --out { "written": FILE }.

${exitCodesHelp(['ok', 'usage'], { ok: 'written' })}`;
  static override examples = [
    { description: 'On stdout', command: '<%= config.bin %> dumpconfigschema' },
    { description: 'Into a file next to your config', command: '<%= config.bin %> dumpconfigschema --out lightbus.schema.json' },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    out: Flags.string({ char: 'o', helpValue: 'FILE', description: 'Write to FILE instead of stdout' }),
  };

  async run(): Promise<object | undefined> {
    const { flags } = await this.parse(DumpConfigSchema);
    const schema = configJsonSchema();
    // oclif prints what run returns, as JSON, when --json is given.
    if (this.jsonEnabled() && flags.out === undefined) return schema;
    const text = `${JSON.stringify(schema, null, 2)}\n`;
    if (flags.out === undefined || flags.out === '-') {
      process.stdout.write(text);
      return undefined;
    }
    const target = resolve(flags.out);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    this.logToStderr(`Configuration schema written to ${target}`);
    return { written: target };
  }
}
