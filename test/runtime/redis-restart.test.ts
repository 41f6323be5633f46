// Redis going away while the runner runs: it logs, reconnects, and serves calls and events
// made after Redis is back; it does not exit. Uses a private redis-server (kill -9, restart).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, type Bus } from '../../src/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, readTally, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const names = testNames('redisdown');
const tallyRedis = new Redis(REDIS_URL);
let server: RedisServer | undefined;
let bus: Bus | undefined;

after(async () => {
  await bus?.close();
  await cleanUpRunners();
  await server?.stop();
  await cleanUpNames(names);
  tallyRedis.disconnect();
});

/** Retries a call until it answers: right after the restart the caller's own connections may still be coming back. */
async function callUntilAnswered(call: () => Promise<unknown>, ms: number): Promise<unknown> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

test('Redis killed and restarted: the runner reconnects, serves calls and delivers events fired afterwards, and keeps running', async () => {
  server = await startRedisServer();
  const runner = await startRunner({
    modules: ['echo-and-listen.ts'],
    serviceName: names.service,
    workers: 1,
    args: ['--redis-url', server.url],
    // The tallies stay on the shared Redis, which is not restarted.
    env: fixtureEnv(names, REDIS_URL),
  });
  await runner.ready();
  bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent', redis: { url: server.url } } });
  assert.equal(await bus.call(`${names.api}.echo`, { text: 'before' }, { timeoutMs: 10_000 }), 'before');
  await bus.fire(`${names.api}.ping`, { id: 'before' });
  await waitFor(async () => (await readTally(tallyRedis, names))['heard:before'] === 1, 'the first event', 10_000);

  const recordsBefore = runner.records.length;
  await server.kill();
  await sleep(1500);
  await server.start();

  const echoed = await callUntilAnswered(() => bus!.call(`${names.api}.echo`, { text: 'after' }, { timeoutMs: 5000 }), 30_000);
  assert.equal(echoed, 'after');
  await callUntilAnswered(() => bus!.fire(`${names.api}.ping`, { id: 'after' }), 30_000);
  await waitFor(async () => (await readTally(tallyRedis, names))['heard:after'] === 1, 'the event fired after the restart', 30_000);

  assert.equal(runner.alive, true, 'the runner is still running');
  const outage = runner.records.slice(recordsBefore).filter((r) => r.level >= 40);
  assert.ok(outage.length > 0, 'the outage was logged');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
