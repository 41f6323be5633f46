// `--only` and `--skip` choose what the runner runs: without events, no listener runs (no
// consumer group is even created), while RPCs are served.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { fixtureEnv, groupOf, groupsOf, readTally, streamOf, testNames } from '../runtime/helpers/bus-state.js';
import { startRunner } from '../runtime/helpers/runner-process.js';
import { runnerSuiteState } from '../runtime/helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();

for (const flags of [['--only', 'rpcs'], ['--skip', 'events']]) {
  test(`${flags.join(' ')}: RPCs are served, listeners do not run`, async () => {
    const names = testNames('features');
    used.push(names);
    const runner = await startRunner({ modules: ['echo-and-listen.ts'], serviceName: names.service, workers: 1, args: flags, env: fixtureEnv(names) });
    const running = await runner.ready();
    assert.deepEqual(running['apis'], [names.api]);
    assert.deepEqual(running['listeners'], []);

    const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
    buses.push(bus);
    await bus.fire(`${names.api}.ping`, { id: 'p1' });
    // An RPC round trip through the same runner after the fire: had a listener been running, it
    // would have had its group since start-up and been handed the event by now.
    assert.equal(await bus.call(`${names.api}.echo`, { text: 'hi' }, { timeoutMs: 10_000 }), 'hi');
    assert.ok(!(await groupsOf(redis, streamOf(names.api))).includes(groupOf(names.service, 'ears')), 'no consumer group for the listener');
    assert.equal((await readTally(redis, names))['heard:p1'], undefined);
    assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  });
}

test('--only events: listeners run, no API is served', async () => {
  const names = testNames('features');
  used.push(names);
  const runner = await startRunner({ modules: ['echo-and-listen.ts'], serviceName: names.service, workers: 1, args: ['--only', 'events'], env: fixtureEnv(names) });
  const running = await runner.ready();
  assert.deepEqual(running['apis'], []);
  assert.deepEqual(running['listeners'], ['ears']);
  assert.equal(await redis.sismember('schemas', names.api), 0, 'no schema published for an API not served');
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  await bus.fire(`${names.api}.ping`, { id: 'p1' });
  await waitFor(async () => (await readTally(redis, names))['heard:p1'] === 1, 'the listener to hear the event', 10_000);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('--only with an unknown feature is a usage error (exit 2)', async () => {
  const names = testNames('features');
  used.push(names);
  const runner = await startRunner({ modules: ['echo-and-listen.ts'], serviceName: names.service, args: ['--only', 'rpc'], env: fixtureEnv(names) });
  const exit = await runner.exit(20_000);
  assert.deepEqual(exit, { code: 2, signal: null }, runner.tail());
  assert.match(runner.stderr, /"rpc" is not one of rpcs, events, tasks/);
});
