// The runtime suite with `lightbus run --inline`: handlers in the invoker's thread, no workers;
// and a module that fails to load stops an inline start as it stops one with workers.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanUpNames, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, fixturePath, startRunner } from './helpers/runner-process.js';
import { runtimeSuite } from './helpers/runtime-suite.js';

runtimeSuite({ name: '--inline', args: ['--inline'], workers: 0, mainThread: true });

const names = testNames('inline_load');
after(async () => {
  await cleanUpRunners();
  await cleanUpNames(names);
});

test('--inline: a module that throws at import stops the start: exit 1, its path and the error', async () => {
  const module = fixturePath('fails-at-import.ts');
  const runner = await startRunner({ modules: [module], serviceName: names.service, args: ['--inline'] });
  const exit = await runner.exit(30_000);
  assert.deepEqual(exit, { code: 1, signal: null }, runner.tail());
  const output = runner.stdout + runner.stderr;
  assert.ok(output.includes(`could not load ${module}`), runner.tail());
  assert.match(output, /FIXTURE_SECRET is not set: cannot start/);
});

test('--inline and --workers together are a usage error (exit 2)', async () => {
  const runner = await startRunner({ modules: ['runtime-suite.ts'], serviceName: names.service, workers: 2, args: ['--inline'] });
  assert.equal((await runner.exit(30_000)).code, 2, runner.tail());
});
