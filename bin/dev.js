#!/usr/bin/env node
// Runs the CLI from src/ without a build: tsx compiles on the fly.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
// The manifest of the last build lists the commands and flags of dist/: once src/ has moved on,
// it would hide what changed (src/cli/stale-manifest.ts).
const { removeStaleManifest } = await import('../src/cli/stale-manifest.ts');
removeStaleManifest(fileURLToPath(new URL('..', import.meta.url)), ['src/commands', 'src/cli', 'src/hooks']);
const { flush, run, settings } = await import('@oclif/core');
process.env.NODE_ENV = 'development';
settings.debug = true;
try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (error) {
  const { reportErrorAndExit } = await import('../src/cli/error-output.ts');
  reportErrorAndExit(error);
}
