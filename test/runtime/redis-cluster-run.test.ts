// `lightbus run` (a child process, worker threads) on a Redis Cluster of 3 masters started for
// this file, with Python's key names and then with the hash-tagged ones: it serves calls and
// delivers events made by a bus in this process, heartbeats and schemas included, and stops cleanly.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
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
let bus: Bus | undefined;
let taggedBus: Bus | undefined;

after(async () => {
  await bus?.close();
  await taggedBus?.close();
  await cleanUpRunners();
  await cluster.stop();
  await cleanUpNames(names);
  await cleanUpNames(taggedNames);
  tallyRedis.disconnect();
});

test('lightbus run on a cluster serves calls and listens to events', async () => {
  const redis = { cluster: { nodes: cluster.urls } };
  const runner = await startRunner({
    modules: ['echo-and-listen.ts'],
    serviceName: names.service,
    workers: 1,
    config: { redis },
    // The tallies stay on the shared Redis.
    env: fixtureEnv(names, REDIS_URL),
  });
  await runner.ready();
  bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent', redis } });
  const answers = await Promise.all(['a', 'b', 'c'].map((text) => bus!.call(`${names.api}.echo`, { text }, { timeoutMs: 10_000 })));
  assert.deepEqual(answers, ['a', 'b', 'c']);
  await Promise.all(['1', '2'].map((id) => bus!.fire(`${names.api}.ping`, { id })));
  await waitFor(async () => {
    const tally = await readTally(tallyRedis, names);
    return tally['heard:1'] === 1 && tally['heard:2'] === 1;
  }, 'both events heard once', 15_000);
  // On the cluster, not on a server the default URL points at: the heartbeat and the schema.
  const raw = new Cluster(cluster.urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })));
  try {
    const beats = Object.keys(await raw.hgetall('lightbus:processes'));
    assert.ok(beats.some((field) => field.startsWith(`${names.service}:`)), `heartbeats on the cluster: ${beats.join(', ')}`);
    assert.equal(await raw.exists(`schema:${names.api}`), 1, 'the schema is on the cluster');
  } finally {
    raw.disconnect();
  }
  const errors = runner.records.filter((record) => record.level >= 50);
  assert.deepEqual(errors, [], 'no error lines');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test("lightbus run on a cluster with redis.keys 'hash-tagged' serves calls and listens to events under the tagged names", async () => {
  const redis = { cluster: { nodes: cluster.urls }, keys: 'hash-tagged' as const };
  const runner = await startRunner({
    modules: ['echo-and-listen.ts'],
    serviceName: taggedNames.service,
    workers: 1,
    config: { redis },
    env: fixtureEnv(taggedNames, REDIS_URL),
  });
  await runner.ready();
  taggedBus = createBus({ config: { serviceName: taggedNames.caller, logLevel: 'silent', redis } });
  const answers = await Promise.all(['a', 'b'].map((text) => taggedBus!.call(`${taggedNames.api}.echo`, { text }, { timeoutMs: 10_000 })));
  assert.deepEqual(answers, ['a', 'b']);
  await taggedBus.fire(`${taggedNames.api}.ping`, { id: '1' });
  await waitFor(async () => (await readTally(tallyRedis, taggedNames))['heard:1'] === 1, 'the event heard once', 15_000);
  const raw = new Cluster(cluster.urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })));
  try {
    assert.equal(await raw.exists(HASH_TAGGED_KEYS.stream(taggedNames.api, 'ping', 'per_api')), 1, 'the tagged stream');
    assert.equal(await raw.exists(PYTHON_KEYS.stream(taggedNames.api, 'ping', 'per_api')), 0, 'no stream under the Python name');
  } finally {
    raw.disconnect();
  }
  assert.deepEqual(runner.records.filter((record) => record.level >= 50), [], 'no error lines');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
