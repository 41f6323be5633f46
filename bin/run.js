#!/usr/bin/env node
// A small young generation for the main thread: it mostly moves short messages between Redis
// and the workers, and at its default size (16 MB semi-spaces, reached while the CLI loads)
// the young generation is a fifth of an idle `lightbus run`'s memory. `--max-semi-space-size`
// is read only when the heap is made, before this file runs, so it cannot be set from here.
// The growth factor is read each time the young generation grows: at 1 it stays at its
// initial size. V8 puts the factor back to 2 whenever a worker thread's heap is made, so it is
// set again once each worker is running.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const keepYoungGenerationSmall = () => setFlagsFromString('--semi-space-growth-factor=1');
keepYoungGenerationSmall();
process.on('worker', (worker) => worker.once('online', keepYoungGenerationSmall));
// In a checkout (the package ships no src/), a build without scripts/build-manifest.js leaves
// a manifest that would hide a new command or flag: drop it, oclif then reads the commands.
const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(join(root, 'src'))) {
  const { removeStaleManifest } = await import('../dist/cli/stale-manifest.js');
  removeStaleManifest(root, ['dist/commands', 'dist/cli', 'dist/hooks']);
}
// Node 22.1+ keeps the compiled code of every module it loads on disk, for the next start
// (Node 20 has no such cache: nothing happens there).
module.enableCompileCache?.();
// @oclif/core checks Node against its own `engines` (npm checks lightbus's at install) with
// semver: some 50 modules at each start. It reads the variable only while it loads; put back
// as it was, the commands and the user's code never see it.
const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING;
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
const { flush, run } = await import('@oclif/core');
if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning;
// Our handler, not oclif's `execute`: oclif's wraps error messages mid-word at 80 columns.
try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (error) {
  const { reportErrorAndExit } = await import('../dist/cli/error-output.js');
  reportErrorAndExit(error);
}
