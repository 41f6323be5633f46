/**
 * The Redis transports through Sentinel (a master, a replica and one sentinel started for this
 * file): the RPC and event conformance suites, the bus finding the master by name.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createConnection } from '../../src/transport/redis/connection.js';
import { silentLogger } from '../../src/logging/logger.js';
import { startRedisSentinel } from '../helpers/redis-cluster.js';
import { registerConformance } from './redis-topologies.js';

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
});

registerConformance('redis sentinel', redis, raw);
