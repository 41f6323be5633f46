/**
 * `redis.cluster.scaleReads` on a cluster of 3 masters with a replica each (started for this
 * file): with 'replica', what inspect reads (schemas, heartbeats, stream details) is answered
 * by replicas and nothing of it by masters; with the default, replicas answer nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { resolveConfig } from '../../src/config/load.js';
import { Inspector } from '../../src/inspect/inspector.js';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisSchemaTransport } from '../../src/transport/redis/schema-transport.js';
import { startRedisCluster, type TopologyNode } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';

const cluster = await startRedisCluster({ replicas: 1 });
const clients = new Map<TopologyNode, Redis>(cluster.nodes.map((node) => [node, new Redis(node.port, '127.0.0.1')]));
after(async () => {
  for (const client of clients.values()) client.disconnect();
  await cluster.stop();
});

/** The read commands inspect sends for `apis()` and `streams()` details, as INFO commandstats names them. */
const READS = ['cmdstat_get', 'cmdstat_smembers', 'cmdstat_hgetall', 'cmdstat_mget'];

async function readsBy(role: 'master' | 'slave'): Promise<number> {
  let total = 0;
  for (const client of clients.values()) {
    const [nodeRole] = (await client.call('ROLE')) as [string];
    if (nodeRole !== role) continue;
    const stats = await client.info('commandstats');
    for (const name of READS) total += Number(new RegExp(`${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  }
  return total;
}

async function resetStats(): Promise<void> {
  await Promise.all([...clients.values()].map((client) => client.config('RESETSTAT')));
}

async function inspectWith(scaleReads: 'master' | 'replica' | undefined): Promise<string[]> {
  const config = resolveConfig({ redis: { cluster: { nodes: cluster.urls, ...(scaleReads ? { scaleReads } : {}) } } }, { env: {} });
  const inspector = await Inspector.open(config, silentLogger());
  try {
    return (await inspector.apis()).map((row) => row.api);
  } finally {
    await inspector.close();
  }
}

describe('redis.cluster.scaleReads', () => {
  before(async () => {
    // A published schema, as a server writes it, replicated before the reads are counted.
    const writer = resolveConfig({ redis: { cluster: { nodes: cluster.urls } } }, { env: {} });
    const schemas = new RedisSchemaTransport({ redis: writer.redis, logger: silentLogger() });
    await schemas.store('scale_reads_api', { rpcs: {}, events: {} }, 60_000);
    await schemas.close();
    await waitFor(async () => (await inspectWith('replica')).includes('scale_reads_api'), 'the schema on the replicas', 10_000, 100);
  });

  test("'replica' sends inspect's reads to replicas, none to masters", async () => {
    await resetStats();
    assert.ok((await inspectWith('replica')).includes('scale_reads_api'));
    assert.ok((await readsBy('slave')) > 0, 'replicas answered no read');
    assert.equal(await readsBy('master'), 0, 'a master answered a read');
  });

  test('by default every read goes to a master', async () => {
    await resetStats();
    assert.ok((await inspectWith(undefined)).includes('scale_reads_api'));
    assert.equal(await readsBy('slave'), 0, 'a replica answered a read');
    assert.ok((await readsBy('master')) > 0);
  });
});
