import { Command } from '@oclif/core';
import { exitCodesHelp } from '../cli/exit-codes.js';

export default class Version extends Command {
  static override summary = 'Print the version of lightbus, Node.js and the platform';
  static override description = `The same line as --version and -v; with --json, an object for scripts and bug reports.

${exitCodesHelp(['ok', 'usage'])}`;
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json'];
  static override enableJsonFlag = true;

  async run(): Promise<{ version: string; node: string; platform: string; arch: string }> {
    await this.parse(Version);
    const { version, platform, arch } = this.config;
    this.log(this.config.userAgent);
    return { version, node: process.version, platform, arch };
  }
}
