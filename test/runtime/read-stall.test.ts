// Silent stalls, reproduced on a private redis-server: `CLIENT PAUSE ... WRITE` holds every
// BLMPOP and XREADGROUP (both are writes) while reads and PING still answer, so the runner is "running
// but processing nothing" and no error ever comes. The runner must notice by itself: a warning
// naming each stuck read and what it waits on, the stall counted in /metrics, /healthz failing
// while it lasts, connections recreated, and work handled again once the server answers.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Bus } from '../../src/index.js';
import { rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, groupOf, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { metricsBase, probe, scrape } from './helpers/metrics-endpoints.js';
import { cleanUpRunners } from './helpers/runner-process.js';
import { STALL_WARNING, startFailoverService, stopsCleanly } from './helpers/failover-traffic.js';

const names = testNames('stall');
const tallyRedis = new Redis(REDIS_URL);
const server = await startRedisServer();
const admin = new Redis(server.url);
let bus: Bus | undefined;

after(async () => {
  await bus?.close();
  await cleanUpRunners();
  admin.disconnect();
  await server.stop();
  await cleanUpNames(names);
  tallyRedis.disconnect();
});

/** Longer than a read's deadline (2 s block + 5 s margin), so each read misses it once. */
const PAUSE_MS = 11_000;

test('a paused server: each stuck read is warned about, counted, fails /healthz, and is recovered', { timeout: 55_000 }, async () => {
  const started = await startFailoverService(names, { url: server.url }, ['--metrics-port', '0']);
  const { runner } = started;
  bus = started.bus;
  const base = await metricsBase(runner);
  assert.equal(await bus.call(`${names.api}.echo`, { text: 'before' }), 'before');
  assert.equal((await probe(base, '/healthz')).status, 200);

  await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'WRITE');
  const pausedAt = Date.now();
  const rpcRead = `rpc:consume:${names.api}`;
  const eventRead = `events:${groupOf(names.service, 'ears')}`;
  const warned = await runner.waitForLogs((r) => r.msg === STALL_WARNING, 2, PAUSE_MS, 'a warning for each stuck read');
  const byRead = new Map(warned.map((r) => [r['read'], r]));
  assert.match(String(byRead.get(rpcRead)?.['waitingOn']), new RegExp(`^BLMPOP ${rpcQueueKey(names.api)}`), JSON.stringify(warned));
  assert.match(String(byRead.get(eventRead)?.['waitingOn']), new RegExp(`^XREADGROUP .*${streamOf(names.api).replace(/[.*]/g, '\\$&')}`));

  // Still paused: health names both stalls. (Its PING may fail too: it queues behind a paused heartbeat write.)
  const sick = await probe(base, '/healthz');
  assert.ok(Date.now() - pausedAt < PAUSE_MS, 'probed while still paused');
  assert.equal(sick.status, 503, JSON.stringify(sick.body));
  assert.match(String(sick.body.checks[`stalled:${rpcRead}`]), /past its liveness deadline/);
  assert.match(String(sick.body.checks[`stalled:${eventRead}`]), /past its liveness deadline/);
  const samples = await scrape(base);
  assert.ok((samples.get(`lightbus_stalled_reads_total{read="${rpcRead}"}`) ?? 0) >= 1, [...samples.keys()].filter((k) => k.includes('stalled')).join(', '));
  assert.ok((samples.get(`lightbus_stalled_reads_total{read="${eventRead}"}`) ?? 0) >= 1);

  // The pause ends: the reads answer, health comes back, and new work is handled.
  await waitFor(async () => (await probe(base, '/healthz')).status === 200, 'health to come back', 15_000, 200);
  assert.equal(await bus.call(`${names.api}.echo`, { text: 'after' }, { timeoutMs: 10_000 }), 'after');
  await bus.fire(`${names.api}.ping`, { id: 'after' });
  await waitFor(async () => (await readTally(tallyRedis, names))['heard:after'] === 1, 'the event after the stall heard', 10_000);
  await runner.waitForLog((r) => r.msg === 'blocking read answered again after a stall' && r['read'] === rpcRead, 5000, 'the recovery to be logged');
  await stopsCleanly(runner);
});
