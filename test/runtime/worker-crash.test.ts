// A worker that dies is replaced at once: its in-flight RPC answers WorkerCrashedError, its
// in-flight events go to the replacement at once (the acknowledgement timeout is 60 s, so only
// the immediate handover explains a redelivery within the bounded wait).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerCrashedError, createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { startRunner } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();
/** Well below the 60 s acknowledgement timeout. */
const REDELIVERY_BOUND_MS = 20_000;

const ways = [
  { how: 'exit', title: 'process.exit() in a handler' },
  { how: 'timer', title: 'an uncaught error thrown from a timer outside any handler' },
  { how: 'oom', title: 'running out of its memory limit' },
] as const;

for (const { how, title } of ways) {
  test(`a worker killed by ${title} is replaced; its RPC gets WorkerCrashedError, its event is redelivered at once`, async () => {
    const names = testNames(`crash_${how}`);
    used.push(names);
    const runner = await startRunner({
      modules: ['crash-in-handler.ts'],
      serviceName: names.service,
      workers: 1,
      config: { events: { acknowledgementTimeoutMs: 60_000 }, runner: { workerMemoryLimitMb: 64 } },
      env: fixtureEnv(names),
    });
    await runner.ready();
    const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
    buses.push(bus);
    const firstThread = await bus.call(`${names.api}.ping`, {}, { timeoutMs: 10_000 });

    // The RPC in flight on the dying worker.
    const error = await bus.call(`${names.api}.crash`, { how }, { timeoutMs: 20_000 }).then(
      () => assert.fail('the call should have failed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkerCrashedError, `expected WorkerCrashedError, got ${(error as Error).name}: ${(error as Error).message}`);
    assert.match(error.message, /crash/);
    await runner.waitForLog((r) => /replacing it/.test(r.msg), 10_000, 'the replacement to be logged');
    assert.ok(runner.records.some((r) => r.msg === 'about to crash' && r['worker'] === 1), "the dying worker's last log line reached the output");
    const secondThread = await bus.call(`${names.api}.ping`, {}, { timeoutMs: 10_000 });
    assert.notEqual(secondThread, firstThread, 'a new worker thread answers');

    // The event in flight on the dying worker.
    const { streamId } = await bus.fire(`${names.api}.job`, { id: 'j1', how });
    await waitFor(async () => (await readTally(redis, names))['done:j1'] === 1, 'the event to be handled by the replacement', REDELIVERY_BOUND_MS);
    assert.equal((await readTally(redis, names))['deliveries:j1'], 2);
    await waitFor(
      async () => !(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'fragile'))).includes(streamId),
      'the redelivered event to be acknowledged',
      10_000,
    );
    assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  });
}
