// A `lightbus run` child through Sentinel (a master, a replica, one sentinel started for this
// file) while the master changes under it: first a `SENTINEL FAILOVER` (the master steps down
// to a replica), then a kill -9 of the new master (the sentinel promotes the other). A bus in
// this process fires events and makes calls all along. Every accepted event is heard, no call
// hangs or runs twice, nothing is left pending, and new work is handled after each failover.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Bus } from '../../src/index.js';
import { sentinelSeesReplica, startRedisSentinel, type TopologyNode } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, streamOf, testNames } from './helpers/bus-state.js';
import { eventIdsIn, killOnceReplicated, startFailoverService, stopsCleanly, throughFailover } from './helpers/failover-traffic.js';
import { cleanUpRunners } from './helpers/runner-process.js';

const names = testNames('sentinelfo');
const tallyRedis = new Redis(REDIS_URL);
const topology = await startRedisSentinel();
const sentinel = new Redis(topology.sentinel.port, '127.0.0.1');
const redis = { url: 'redis://127.0.0.1:1/0', sentinel: { sentinels: topology.sentinelUrls, name: topology.name } };
let bus: Bus | undefined;

after(async () => {
  await bus?.close();
  await cleanUpRunners();
  sentinel.disconnect();
  await topology.stop();
  await cleanUpNames(names);
  tallyRedis.disconnect();
});

/** The port the sentinel names as master now. */
async function masterPort(): Promise<number> {
  const [, port] = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', topology.name)) as [string, string];
  return Number(port);
}

function nodeAt(port: number): TopologyNode {
  return [topology.master, topology.replica].find((node) => node.port === port)!;
}

async function ask<T>(port: number, run: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    return await run(r);
  } finally {
    r.disconnect();
  }
}

/** One failover step on this file's topology. */
async function step(tag: string, failover: () => Promise<void>, oldMasterEvents?: () => ReadonlySet<string>): Promise<void> {
  const before = await masterPort();
  await throughFailover({
    ...(oldMasterEvents ? { oldMasterEvents } : {}),
    bus: bus!,
    names,
    tallyRedis,
    tag,
    failover: async () => {
      await failover();
      return async () => (await masterPort()) !== before;
    },
    streamRedis: async () => new Redis(await masterPort(), '127.0.0.1', { maxRetriesPerRequest: 1 }),
  });
}

test('lightbus run through Sentinel: SENTINEL FAILOVER, then kill -9 of the master', { timeout: 90_000 }, async () => {
  const started = await startFailoverService(names, redis);
  bus = started.bus;

  let oldMasterEvents = new Set<string>();
  await step(
    'switch',
    async () => {
      const old = nodeAt(await masterPort());
      await sentinel.call('SENTINEL', 'FAILOVER', topology.name);
      await waitFor(async () => (await masterPort()) !== old.port, 'the sentinel to name the new master', 20_000, 50);
      // The old master stays up, a master, for about 10 s until the sentinel demotes it; every
      // write it takes meanwhile is lost at its resync. Every connection of the runner and of
      // this file's bus must leave it on +switch-master, while it is still a master.
      await waitFor(() => ask(old.port, async (r) => !String(await r.client('LIST')).includes(' name=lightbus:')), 'every lightbus connection to leave the old master', 5000, 20);
      assert.equal((await ask(old.port, (r) => r.role()))[0], 'master', 'the connections left only when the old master was demoted');
      oldMasterEvents = await ask(old.port, (r) => eventIdsIn(r, streamOf(names.api)));
      await started.runner.waitForLog((record) => record.msg === 'the sentinels announced a new master; moving every connection there', 1000, 'the runner to log the move');
    },
    () => oldMasterEvents,
  );
  // The old master, now a replica of the new one, must be in sync before it can be promoted.
  const demoted = nodeAt(await masterPort()) === topology.master ? topology.replica : topology.master;
  await waitFor(() => ask(demoted.port, async (r) => String(await r.info('replication')).includes('master_link_status:up')), 'the demoted master to sync', 20_000, 100);
  await waitFor(() => sentinelSeesReplica(topology.sentinel.port, topology.name), 'the sentinel to see it as a replica', 20_000, 100);

  await step('kill', async () => {
    await killOnceReplicated(nodeAt(await masterPort()));
  });

  await started.runner.waitForLog((record) => record.msg === 'redis connection restored', 5000, 'the runner to log its reconnections');
  await stopsCleanly(started.runner);
  // Closing lets go of the sentinels too: no subscription of a failover detector stays open.
  await bus.close();
  await waitFor(async () => !/ sub=[1-9]/.test(String(await sentinel.client('LIST'))), 'no subscriptions left on the sentinel', 5000, 50);
});
