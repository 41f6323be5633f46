#!/usr/bin/env node
// A small young generation for the main thread: it mostly moves short messages between Redis
// and the workers, and at its default size (16 MB semi-spaces, reached while the CLI loads)
// the young generation is a fifth of an idle `lightbus run`'s memory. `--max-semi-space-size`
// is read only when the heap is made, before this file runs, so it cannot be set from here.
// The growth factor is read each time the young generation grows: at 1 it stays at its
// initial size. V8 puts the factor back to 2 whenever a worker thread's heap is made, so it is
// set again once each worker is running.
import { setFlagsFromString } from 'node:v8';

const keepYoungGenerationSmall = () => setFlagsFromString('--semi-space-growth-factor=1');
keepYoungGenerationSmall();
process.on('worker', (worker) => worker.once('online', keepYoungGenerationSmall));
const { flush, run } = await import('@oclif/core');
// Our handler, not oclif's `execute`: oclif's wraps error messages mid-word at 80 columns.
try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (error) {
  const { reportErrorAndExit } = await import('../dist/cli/error-output.js');
  reportErrorAndExit(error);
}
