#!/usr/bin/env node
// Runs the CLI from src/ without a build: tsx compiles on the fly.
import { register } from 'tsx/esm/api';

register();
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
