// No deadlock: a handler awaiting a bus call does not hold the slot its callee needs.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createBus } from '../../src/index.js';
import { cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const names = testNames('nested');
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await cleanUpNames(names);
});

test('a chain of 50 nested RPCs through one API completes with one worker and a concurrency of 1', async () => {
  const runner = await startRunner({
    modules: ['nested-rpc.ts'],
    serviceName: names.service,
    workers: 1,
    config: { logLevel: 'info', runner: { concurrency: 1 } },
    env: fixtureEnv(names),
  });
  const running = await runner.ready();
  assert.equal(running['workers'], 1);

  // Each level waits on the next, through Redis and back into the same single slot.
  const depth = await bus.call(`${names.api}.depth`, { n: 50 }, { timeoutMs: 30_000 });
  assert.equal(depth, 50);

  const exit = await runner.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, runner.tail());
});
