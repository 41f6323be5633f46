/**
 * A connection whose server is demoted under it (`REPLICAOF` on a private redis-server, no
 * client killed, as in a failover that does not reach every client, or a DNS name still
 * pointing at the old master): a write answered READONLY and a blocked BLPOP ended by
 * UNBLOCKED are not failed into a loop of errors. The connection reconnects and sends them
 * again, with backoff while the address stays a replica, and they complete once a master
 * answers there; the warning comes once, not on every retry.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createConnection } from '../../src/transport/redis/connection.js';
import { capturingLogger, within } from '../helpers/events.js';
import { startRedisServer } from '../helpers/redis-server.js';

const demoted = await startRedisServer();
const other = await startRedisServer();
const admin = new Redis(demoted.url);
after(async () => {
  admin.disconnect();
  await Promise.all([demoted.stop(), other.stop()]);
});

const STALE_WARNING = 'redis answered as a replica (a failover moved the master); reconnecting to the master';

test('READONLY and UNBLOCKED lead to a reconnection and a resend, not to failed commands', { timeout: 30_000 }, async () => {
  const { logger, records } = capturingLogger();
  const connection = createConnection({ redis: { url: demoted.url }, logger, role: 'stale-probe' });
  try {
    await connection.ping();
    const blocked = connection.blpop('stale:queue', 20);
    await sleep(200);
    await admin.replicaof('127.0.0.1', String(other.port));
    const write = connection.set('stale:key', 'written');
    // A while as a replica: the commands are retried there, and neither fails.
    await sleep(1500);
    await admin.replicaof('NO', 'ONE');
    assert.equal(await within(write, 10_000, 'the write to complete on the master'), 'OK');
    assert.equal(await admin.get('stale:key'), 'written');
    await admin.lpush('stale:queue', 'item');
    assert.deepEqual(await within(blocked, 10_000, 'the BLPOP to be answered'), ['stale:queue', 'item']);
    const warnings = records.filter((r) => r.msg === STALE_WARNING);
    assert.equal(warnings.length, 1, `one warning for the episode, not one per retry: ${warnings.length}`);
    assert.match(String(warnings[0]!['err']), /^(READONLY|UNBLOCKED)/);
  } finally {
    connection.disconnect();
    await admin.del('stale:key', 'stale:queue');
  }
});
