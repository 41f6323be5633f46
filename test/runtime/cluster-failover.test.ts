// A `lightbus run` child on a Redis Cluster of 3 masters with a replica each (started for this
// file, cluster-node-timeout 1 s) while masters die: a kill -9 of the master of the API's call
// queue slot, then of the master of its event stream's slot; each time the replica takes over.
// A bus in this process fires events and makes calls all along. Every accepted event is heard,
// no call hangs or runs twice, nothing is left pending, and new work is handled after each.
// Then a stall on the same cluster: both masters paused for writes, each stuck read (a BLPOP
// per queue, the listener's XREADGROUP) warned about, failing /healthz, and recovered.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis, type Cluster } from 'ioredis';
import type { Bus } from '../../src/index.js';
import { rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, groupOf, readTally, streamOf, testNames, type TestNames } from './helpers/bus-state.js';
import { killOnceReplicated, startFailoverService, stopsCleanly, throughFailover } from './helpers/failover-traffic.js';
import { cleanUpRunners } from './helpers/runner-process.js';
import { metricsBase, probe } from './helpers/metrics-endpoints.js';
import { STALL_WARNING } from './helpers/failover-traffic.js';

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
  const client = cluster.client({ redisOptions: { maxRetriesPerRequest: 1 } });
  // The killed nodes refuse connections until the slot map is refreshed: not this test's concern.
  client.on('error', () => undefined);
  return client;
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

test('a stall on a cluster: paused masters, each stuck read warned about, failing /healthz, recovered', { timeout: 50_000 }, async () => {
  const started = await startFailoverService(names, redis, ['--metrics-port', '0']);
  await bus?.close();
  bus = started.bus;
  const base = await metricsBase(started.runner);
  // The RPC side is stuck in its LPOPs (rpc:consume) or its BLPOP (rpc:block), whichever was out.
  const isRpcRead = (read: unknown) => String(read).startsWith(`rpc:consume:${names.api}`) || read === `rpc:block:${rpcQueueKey(names.api)}`;
  // A cluster listener's read is split (a non-blocking XREADGROUP on the transport's `events`
  // connection, then an XREAD BLOCK on its stream's own client): a paused master holds the former.
  const group = groupOf(names.service, 'ears');
  const isEventRead = (r: Record<string, unknown>) => r['read'] === 'events' && String(r['waitingOn']).startsWith(`XREADGROUP ${group} `);
  // Longer than a read's deadline (2 s block + 5 s margin), so each read misses it once.
  const pauseMs = 11_000;
  for (const key of [rpcQueueKey(names.api), streamOf(names.api)]) {
    const direct = new Redis((await cluster.masterOf(key)).port, '127.0.0.1');
    await direct.call('CLIENT', 'PAUSE', String(pauseMs), 'WRITE').finally(() => direct.disconnect());
  }
  // Both kinds, whichever comes first: the RPC loop's deadline (5 s) may pass twice before the listener's.
  const stalls = () => started.runner.records.filter((r) => r.msg === STALL_WARNING);
  const warned = await waitFor(() => (stalls().some((r) => isRpcRead(r['read'])) && stalls().some(isEventRead) ? stalls() : undefined), 'a warning for each stuck read', pauseMs)
    .catch((error: Error) => assert.fail(`${error.message}: ${JSON.stringify(stalls())}`));
  assert.ok(warned.some((r) => isRpcRead(r['read'])) && warned.some(isEventRead), JSON.stringify(warned));
  const rpcWarning = warned.find((r) => isRpcRead(r['read']))!;
  assert.match(String(rpcWarning['waitingOn']), new RegExp(`^B?LPOP ${rpcQueueKey(names.api)}`));
  const sick = await probe(base, '/healthz');
  assert.equal(sick.status, 503);
  assert.ok(Object.keys(sick.body.checks).some((check) => check.startsWith('stalled:rpc:')), JSON.stringify(sick.body));
  await waitFor(async () => (await probe(base, '/healthz')).status === 200, 'health to come back', 15_000, 200);
  assert.equal(await bus.call(`${names.api}.echo`, { text: 'after-stall' }, { timeoutMs: 10_000 }), 'after-stall');
  await bus.fire(`${names.api}.ping`, { id: 'after-stall' });
  await waitFor(async () => (await readTally(tallyRedis, names))['heard:after-stall'] === 1, 'the event after the stall heard', 10_000);
  await stopsCleanly(started.runner);
});
