// A `lightbus run` child on a Redis Cluster of 3 masters with a replica each (started for this
// file, cluster-node-timeout 1 s) while masters die: a kill -9 of the master of the API's call
// queue slot, then of the master of its event stream's slot; each time the replica takes over.
// A bus in this process fires events and makes calls all along. Every accepted event is heard,
// no call hangs or runs twice, nothing is left pending, and new work is handled after each.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import type { Bus } from '../../src/index.js';
import { rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { REDIS_URL, cleanUpNames, streamOf, testNames, type TestNames } from './helpers/bus-state.js';
import { killOnceReplicated, startFailoverService, stopsCleanly, throughFailover } from './helpers/failover-traffic.js';
import { cleanUpRunners } from './helpers/runner-process.js';

const cluster = await startRedisCluster({ replicas: 1 });
const names = await namesOnTwoMasters();
const tallyRedis = new Redis(REDIS_URL);
const redis = { cluster: { nodes: cluster.urls } };
let bus: Bus | undefined;

after(async () => {
  await bus?.close();
  await cleanUpRunners();
  await cluster.stop();
  await cleanUpNames(names);
  tallyRedis.disconnect();
});

/**
 * Names whose call queue and event stream live on different masters: the second kill must find
 * a master that still has its replica (the first kill's survivor has none).
 */
async function namesOnTwoMasters(): Promise<TestNames> {
  for (;;) {
    const candidate = testNames('clusterfo');
    const [queue, stream] = await Promise.all([cluster.masterOf(rpcQueueKey(candidate.api)), cluster.masterOf(streamOf(candidate.api))]);
    if (queue.port !== stream.port) return candidate;
  }
}

function clusterClient(): Cluster {
  return new Cluster(cluster.urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })), { redisOptions: { maxRetriesPerRequest: 1 } });
}

/** Kills the master serving `key` (after its replica has every write so far) and waits for a new one. */
async function killMasterOf(tag: string, key: string): Promise<void> {
  await throughFailover({
    bus: bus!,
    names,
    tallyRedis,
    tag,
    failover: async () => {
      const master = await cluster.masterOf(key);
      await killOnceReplicated(master);
      return async () => (await cluster.masterOf(key)).port !== master.port;
    },
    streamRedis: async () => clusterClient(),
  });
}

test('lightbus run on a cluster: kill -9 of the queue slot master, then of the stream slot master', { timeout: 90_000 }, async () => {
  const started = await startFailoverService(names, redis);
  bus = started.bus;

  await killMasterOf('queue', rpcQueueKey(names.api));
  await killMasterOf('stream', streamOf(names.api));

  await stopsCleanly(started.runner);
});
