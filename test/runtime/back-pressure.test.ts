// Back-pressure: with a slow listener and a backlog of 1,000 events, the invoker holds at most
// batchSize x concurrency events in flight; the backlog stays in Redis.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, groupOf, pendingCount, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const names = testNames('backpressure');
const redis = new Redis(REDIS_URL);
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await cleanUpNames(names);
  redis.disconnect();
});

test('a slow listener with 1,000 events waiting holds at most batchSize x concurrency of them in flight', async () => {
  const batchSize = 5;
  const concurrency = 2;
  const total = 1000;
  const runner = await startRunner({
    modules: ['slow-listener.ts'],
    serviceName: names.service,
    workers: 1,
    config: { events: { batchSize } },
    env: fixtureEnv(names, REDIS_URL, { FIXTURE_CONCURRENCY: String(concurrency) }),
  });
  await runner.ready();
  for (let start = 0; start < total; start += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => bus.fire(`${names.api}.item`, { id: `e${start + i}`, ms: 20 })));
  }
  assert.ok((await redis.xlen(streamOf(names.api))) >= total);

  const handled = async () => Object.keys(await readTally(redis, names)).filter((k) => k.startsWith('handled:')).length;
  await waitFor(async () => (await handled()) > 0, 'the listener to start on the backlog', 15_000);
  const samples: number[] = [];
  for (let i = 0; i < 40; i++) {
    samples.push(await pendingCount(redis, streamOf(names.api), groupOf(names.service, 'steady')));
    await sleep(50);
  }
  const handledAfterSampling = await handled();
  assert.ok(handledAfterSampling < total, 'the samples were taken while a backlog waited in Redis (lower the handler speed if this fails)');
  assert.ok(Math.max(...samples) <= batchSize * concurrency, `pending counts seen: ${samples.join(', ')}`);
  assert.ok(samples.some((count) => count > 0), 'events were in flight while sampling');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
