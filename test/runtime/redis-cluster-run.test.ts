// `lightbus run` (a child process, worker threads) on a Redis Cluster of 3 masters started for
// this file, with Python's key names and then with the hash-tagged ones: it serves calls and
// delivers events made by a bus in this process, heartbeats and schemas included, and stops cleanly.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis, type Cluster } from 'ioredis';
import { createBus, type Bus } from '../../src/index.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { HASH_TAGGED_KEYS, PYTHON_KEYS } from '../../src/transport/wire/key-layout.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, readTally, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const names = testNames('clusterrun');
const taggedNames = testNames('clustertagged');
const tallyRedis = new Redis(REDIS_URL);
const cluster = await startRedisCluster();
const buses: Bus[] = [];

after(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  await cleanUpRunners();
  await cluster.stop();
  await cleanUpNames(names);
  await cleanUpNames(taggedNames);
  tallyRedis.disconnect();
});

/** `lightbus run` serving the fixture with `redis`; a bus of this process calls it three times and fires two events, heard once each. */
async function runAndUse(redis: Record<string, unknown>, runNames: typeof names): Promise<{ runner: Awaited<ReturnType<typeof startRunner>>; bus: Bus }> {
  const runner = await startRunner({
    modules: ['echo-and-listen.ts'],
    serviceName: runNames.service,
    workers: 1,
    config: { redis },
    // The tallies stay on the shared Redis.
    env: fixtureEnv(runNames, REDIS_URL),
  });
  await runner.ready();
  const caller = createBus({ config: { serviceName: runNames.caller, logLevel: 'silent', redis } });
  buses.push(caller);
  const answers = await Promise.all(['a', 'b', 'c'].map((text) => caller.call(`${runNames.api}.echo`, { text }, { timeoutMs: 10_000 })));
  assert.deepEqual(answers, ['a', 'b', 'c']);
  await Promise.all(['1', '2'].map((id) => caller.fire(`${runNames.api}.ping`, { id })));
  await waitFor(async () => {
    const tally = await readTally(tallyRedis, runNames);
    return tally['heard:1'] === 1 && tally['heard:2'] === 1;
  }, 'both events heard once', 15_000);
  return { runner, bus: caller };
}

/** A client of the test cluster for `use`, disconnected after. */
async function onCluster(use: (raw: Cluster) => Promise<void>): Promise<void> {
  const raw = cluster.client();
  try {
    await use(raw);
  } finally {
    raw.disconnect();
  }
}

async function stopCleanly(runner: Awaited<ReturnType<typeof startRunner>>): Promise<void> {
  const errors = runner.records.filter((record) => record.level >= 50);
  assert.deepEqual(errors, [], 'no error lines');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
}

test('lightbus run on a cluster serves calls and listens to events', async () => {
  const { runner } = await runAndUse({ cluster: { nodes: cluster.urls } }, names);
  // On the cluster, not on a server the default URL points at: the heartbeat and the schema.
  await onCluster(async (raw) => {
    const beats = Object.keys(await raw.hgetall('lightbus:processes'));
    assert.ok(beats.some((field) => field.startsWith(`${names.service}:`)), `heartbeats on the cluster: ${beats.join(', ')}`);
    assert.equal(await raw.exists(`schema:${names.api}`), 1, 'the schema is on the cluster');
  });
  await stopCleanly(runner);
});

test("lightbus run on a cluster with redis.keys 'hash-tagged' serves calls and listens to events under the tagged names", async () => {
  const { runner } = await runAndUse({ cluster: { nodes: cluster.urls }, keys: 'hash-tagged' }, taggedNames);
  await onCluster(async (raw) => {
    assert.equal(await raw.exists(HASH_TAGGED_KEYS.stream(taggedNames.api, 'ping', 'per_api')), 1, 'the tagged stream');
    assert.equal(await raw.exists(PYTHON_KEYS.stream(taggedNames.api, 'ping', 'per_api')), 0, 'no stream under the Python name');
  });
  await stopCleanly(runner);
});
