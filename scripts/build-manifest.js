#!/usr/bin/env node
// Writes oclif.manifest.json (every command's flags, args and help, as oclif would read them
// from dist/commands), the last step of `npm run build`, so that every start of the CLI
// (`--help`, `--version`, `run`...) imports only the command it runs, not all of them with
// everything they import (docs/benchmark.md, "CLI start"). A manifest older than what it
// describes is removed by the binaries in a checkout (src/cli/stale-manifest.ts). Uses
// @oclif/core's own Plugin loader, as the `oclif manifest` command does, without the ~50 MB
// `oclif` dev CLI.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'oclif.manifest.json');

// ignoreManifest: or the loader would read the old one back.
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
await plugin.load();
// Written aside, then renamed: a CLI starting meanwhile (tests run in parallel) reads the old
// file or the new one, never half of one.
const written = `${target}.${process.pid}.tmp`;
try {
  writeFileSync(written, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
  renameSync(written, target);
} finally {
  rmSync(written, { force: true });
}
