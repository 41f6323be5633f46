#!/usr/bin/env node
// Writes oclif.manifest.json (every command's flags, args and help, as oclif would read them
// from dist/commands), so `lightbus --help` and `--version` start without importing every
// command. Run by `npm pack`/`npm publish` (prepack), removed after (postpack): a stale manifest
// in a working tree would hide new flags. Uses @oclif/core's own Plugin loader, as the `oclif
// manifest` command does, without the ~50 MB `oclif` dev CLI.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'oclif.manifest.json');

if (process.argv.includes('--remove')) {
  rmSync(target, { force: true });
} else {
  rmSync(target, { force: true }); // or the loader would read the old one back
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
  await plugin.load();
  writeFileSync(target, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
  console.error(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`);
}
