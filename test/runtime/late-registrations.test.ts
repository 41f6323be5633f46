// Registrations made in a worker after start, and `ListenerHandle.ready` in a worker.
//  - A listener registered in onStart lives in the one worker that ran onStart: its events must
//    run there, never be answered "no listener" by another worker and acknowledged unhandled.
//  - `await bus.listen(...).ready` resolves once the consumer group exists, at import and in
//    onStart: an event fired right after it is delivered (the listeners start at `$`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { startRunner } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();

test('a listener registered in onStart gets every event run by the worker that holds it; none is acknowledged unhandled', async () => {
  const names = testNames('late');
  used.push(names);
  const runner = await startRunner({
    modules: ['late-listener.ts'],
    serviceName: names.service,
    workers: 2,
    config: { events: { acknowledgementTimeoutMs: 60_000 } },
    env: fixtureEnv(names),
  });
  await runner.ready();
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  const ids = Array.from({ length: 20 }, (_, i) => `e${i}`);
  // One at a time, so that batches overlap and the pool has several in flight to place.
  for (const id of ids) await bus.fire(`${names.api}.job`, { id });

  const group = groupOf(names.service, 'late');
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), group)).length === 0, 'every event to be settled', 30_000);
  await waitFor(async () => {
    const t = await readTally(redis, names);
    return ids.every((id) => t[`done:${id}`] === 1);
  }, 'every event to be handled once (an event acknowledged unhandled never is)', 10_000);
  const threads = new Set(await Promise.all(ids.map((id) => redis.hget(names.tally, `thread:${id}`))));
  assert.equal(threads.size, 1, 'one thread holds the handler and ran them all');
  assert.ok(!runner.records.some((r) => /No listener named/.test(JSON.stringify(r))), 'no worker answered "no listener"');
  assert.ok(runner.records.some((r) => r['listener'] === 'late' && /registered after start/.test(r.msg)), 'the narrowing is logged');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('await bus.listen(...).ready in a worker (at import and in onStart), then a fire at once: the event is delivered', async () => {
  const names = testNames('ready');
  used.push(names);
  const runner = await startRunner({
    modules: ['awaited-ready.ts'],
    serviceName: names.service,
    workers: 1,
    config: { events: { acknowledgementTimeoutMs: 60_000 } },
    env: fixtureEnv(names),
  });
  await runner.ready();
  await waitFor(async () => {
    const t = await readTally(redis, names);
    return t['at-import:fired-at-import'] === 1 && t['in-start:fired-in-start'] === 1;
  }, 'both events to reach the listener that awaited ready before firing', 15_000);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
