/**
 * The Redis transports through Sentinel (a master, a replica and one sentinel started for this
 * file): the RPC and event conformance suites, the bus finding the master by name, the one
 * watch of the sentinels per process.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeConnection, createConnection } from '../../src/transport/redis/connection.js';
import { capturingLogger, eventually } from '../helpers/events.js';
import { freePort } from '../helpers/redis-server.js';
import { silentLogger } from '../../src/logging/logger.js';
import { startRedisSentinel } from '../helpers/redis-cluster.js';
import { registerConformance } from './redis-topologies.js';
import { sentinelNodeOptions } from '../../src/transport/redis/topology.js';

const topology = await startRedisSentinel();
// The URL's host is not used: the sentinels name the master. Its database is.
const redis = { url: 'redis://127.0.0.1:1/0', sentinel: { sentinels: topology.sentinelUrls, name: topology.name } };
const raw = new Redis(topology.master.port, '127.0.0.1');
after(async () => {
  raw.disconnect();
  await topology.stop();
});

describe('through Sentinel', () => {
  test('a connection reaches the master the sentinels name, not the URL host', async () => {
    const connection = createConnection({ redis, logger: silentLogger(), role: 'sentinel-probe' });
    try {
      await connection.set('sentinel-probe', 'here');
      assert.equal(await raw.get('sentinel-probe'), 'here');
    } finally {
      connection.disconnect();
    }
  });

  test('one watch of +switch-master per process: an unreachable sentinel is one warn line, and the watch closes with the last connection', async () => {
    const { logger, records } = capturingLogger();
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const config = { ...redis, sentinel: { ...redis.sentinel, sentinels: [...topology.sentinelUrls, dead] } };
    const sentinel = new Redis(topology.sentinel.port, '127.0.0.1');
    const subscribed = async () => String(await sentinel.client('LIST')).split('\n').filter((line) => / sub=[1-9]/.test(line)).length;
    try {
      const connections = [0, 1, 2].map((n) => createConnection({ redis: config, logger, role: `watch-probe-${n}` }));
      await Promise.all(connections.map((connection) => connection.ping()));
      await eventually(async () => (await subscribed()) === 1, 5000, 'one subscription on the live sentinel');
      // The dead sentinel is retried with backoff meanwhile (0.1, 0.2, 0.4 s ...).
      await sleep(1000);
      const warned = records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('sentinel unreachable'));
      assert.deepEqual(warned.map((r) => r['sentinel']), [dead]);
      await Promise.all(connections.map((connection) => closeConnection(connection, false)));
      await eventually(async () => (await subscribed()) === 0, 5000, 'the watch to close with the last connection');
      assert.equal(records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('sentinel unreachable')).length, 1, 'closing the watch is no loss to warn about');
    } finally {
      sentinel.disconnect();
    }
  });
});

registerConformance('redis sentinel', redis, raw);

test("a sentinel's watch connection uses its URL's credentials, or else the first sentinel's, as ioredis does to ask for the master", () => {
  const config = (sentinels: string[]) => ({ url: 'redis://127.0.0.1:1/0', sentinel: { sentinels, name: 'm' } }) as Parameters<typeof sentinelNodeOptions>[0];
  const both = config(['redis://watcher:s3cret@10.0.0.1:26379', 'redis://10.0.0.2:26380', 'redis://:other@10.0.0.3:26381']);
  assert.deepEqual(sentinelNodeOptions(both, both.sentinel!.sentinels[1]!), { host: '10.0.0.2', port: 26380, username: 'watcher', password: 's3cret' });
  // A password of its own without a user is the default user's, not the first sentinel's user.
  assert.deepEqual(sentinelNodeOptions(both, both.sentinel!.sentinels[2]!), { host: '10.0.0.3', port: 26381, password: 'other' });
  const none = config(['redis://10.0.0.1:26379']);
  assert.deepEqual(sentinelNodeOptions(none, none.sentinel!.sentinels[0]!), { host: '10.0.0.1', port: 26379 });
});
