/**
 * The Redis transports on a Redis Cluster of 3 masters started for this file, with the
 * hash-tagged key names (redis.keys 'hash-tagged'): every key of one API in one slot, so one
 * API's work takes the single-server path (one script), while work over
 * several APIs on several masters is still split per API. Then the RPC and event conformance
 * suites on that cluster.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisCallConsumer } from '../../src/transport/redis/call-consumer.js';
import { ClusterCallConsumer } from '../../src/transport/redis/cluster-call-consumer.js';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import { RedisResultTransport } from '../../src/transport/redis/result-transport.js';
import { RedisRpcTransport } from '../../src/transport/redis/rpc-transport.js';
import { HASH_TAGGED_KEYS as keys } from '../../src/transport/wire/key-layout.js';
import { findEventStreams, findRpcQueues } from '../../src/inspect/streams.js';
import { parseMemberPattern } from '../../src/inspect/patterns.js';
import { eventually, newEvent, take } from '../helpers/events.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { testEventsConfig } from './event-conformance.js';
import { newCall, within } from './rpc-conformance.js';
import { registerConformance } from './redis-topologies.js';

const cluster = await startRedisCluster();
const redis = { url: 'redis://127.0.0.1:6379/0', cluster: { nodes: cluster.urls }, keys: 'hash-tagged' as const };
const raw = cluster.client();
after(async () => {
  raw.disconnect();
  await cluster.stop();
});

/** `count` API names whose keys are served by as many different masters. */
async function apisOnDifferentMasters(count: number): Promise<string[]> {
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < count && i < 200; i++) {
    const api = `t_${randomUUID().slice(0, 8)}`;
    const port = (await cluster.masterOf(keys.rpcQueue(api))).port;
    if (!byMaster.has(port)) byMaster.set(port, api);
  }
  assert.equal(byMaster.size, count, 'found no such APIs');
  return [...byMaster.values()];
}

function rpcPair(t: { after(fn: () => Promise<unknown>): void }) {
  const logger = silentLogger();
  const rpc = new RedisRpcTransport({ redis, logger });
  const results = new RedisResultTransport({ redis, rpc: { resultTtlMs: 60_000 }, logger, serviceName: 'svc', processName: 'p' });
  t.after(() => Promise.all([rpc.close(), results.close()]));
  return { rpc, results };
}

describe('hash-tagged keys on a cluster', () => {
  test('every key of one API hashes to one slot (CLUSTER KEYSLOT), and two APIs can land on different masters', async () => {
    const api = 'auth.sessions';
    const names = [
      keys.rpcQueue(api),
      keys.expiryMarker(api, '3f1b6a40-0000-4000-8000-000000000000'),
      keys.expiryMarker(api, 'another-call'),
      keys.stream(api, '*', 'per_api'),
      keys.stream(api, 'user_registered', 'per_event'),
      keys.stream(api, 'user_deleted', 'per_event'),
    ];
    const slots = new Set(await Promise.all(names.map(async (key) => Number(await raw.cluster('KEYSLOT', key)))));
    assert.equal(slots.size, 1, `one slot for ${names.join(', ')}`);
    assert.deepEqual([...slots], [Number(await raw.cluster('KEYSLOT', `{${api}}`))], 'the slot of the API name itself');
    const [a, b] = await apisOnDifferentMasters(2);
    assert.notEqual((await cluster.masterOf(keys.rpcQueue(a!))).port, (await cluster.masterOf(keys.rpcQueue(b!))).port);
  });

  test("a server of one API takes the single-server path: one drain script over its queue and markers, a burst taken whole, no marker left", async (t) => {
    const [api] = await apisOnDifferentMasters(1);
    const { rpc, results } = rpcPair(t);
    const consumer = rpc.consume([api!]);
    assert.ok(consumer instanceof RedisCallConsumer, 'the single-slot consumer');
    const waiting = consumer.next(10);
    const first = newCall(api!, 'p', {}, results.returnPath, 5000);
    setTimeout(() => void rpc.send(first), 100);
    assert.deepEqual((await within(waiting, 10_000, 'the first call')).map((c) => c.id), [first.id]);
    const burst = [1, 2, 3, 4, 5].map((n) => newCall(api!, 'p', { n }, results.returnPath, 5000));
    await Promise.all(burst.map((call) => rpc.send(call)));
    const taken = new Set<string>();
    while (taken.size < burst.length) for (const call of await within(consumer.next(100), 10_000, 'the burst')) taken.add(call.id);
    assert.deepEqual([...taken].sort(), burst.map((call) => call.id).sort());
    // The next drain deletes the markers of calls taken fresh from the BLPOP.
    const next = consumer.next(10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const call of [first, ...burst]) assert.equal(await raw.exists(keys.expiryMarker(api!, call.id)), 0, `the marker of ${call.id} was taken`);
    assert.equal(await raw.llen(keys.rpcQueue(api!)), 0);
    await rpc.close();
    assert.deepEqual(await next, []);
  });

  test('a server of APIs on different masters is split per API, and gets the calls to each', async (t) => {
    const apis = await apisOnDifferentMasters(3);
    const { rpc, results } = rpcPair(t);
    const consumer = rpc.consume(apis);
    assert.ok(consumer instanceof ClusterCallConsumer, 'the per-slot consumer');
    const burst = apis.flatMap((api) => [1, 2].map((n) => newCall(api, 'p', { n }, results.returnPath, 5000)));
    await Promise.all(burst.map((call) => rpc.send(call)));
    const taken = new Set<string>();
    while (taken.size < burst.length) for (const call of await within(consumer.next(100), 10_000, 'the burst')) taken.add(call.id);
    assert.deepEqual([...taken].sort(), burst.map((call) => call.id).sort());
    for (const call of burst) assert.equal(await raw.exists(keys.expiryMarker(call.api, call.id)), 0, 'the marker was taken');
  });

  test("a listener of one API's per_event streams gets both; fires to several APIs in one tick land in order", async (t) => {
    const apis = await apisOnDifferentMasters(2);
    const bus = new RedisEventTransport({ redis, events: testEventsConfig(apis[0]!, { streamUse: 'per_event' }), logger: silentLogger() });
    t.after(() => bus.close());
    const api = apis[0]!;
    const consumer = bus.consume({ group: `${api}-g`, consumer: 'p1', events: [{ api, event: 'a' }, { api, event: 'b' }] });
    await consumer.ready;
    const sent = [newEvent(api, 'a', { n: 0 }), newEvent(api, 'b', { n: 1 }), newEvent(apis[1]!, 'a', { n: 2 }), newEvent(api, 'a', { n: 3 })];
    await Promise.all(sent.map((event) => bus.send(event)));
    const delivered = await take(consumer, 3);
    assert.deepEqual(delivered.map((d) => d.message.id).sort(), [sent[0]!.id, sent[1]!.id, sent[3]!.id].sort());
    assert.deepEqual(delivered.map((d) => d.stream).sort(), [keys.stream(api, 'a', 'per_event'), keys.stream(api, 'a', 'per_event'), keys.stream(api, 'b', 'per_event')]);
    await consumer.ack(delivered);
    const other = await raw.xrange(keys.stream(apis[1]!, 'a', 'per_event'), '-', '+');
    assert.equal(other.length, 1);
  });

  // Streams of one slot could share one XREADGROUP BLOCK, but nothing can end that block early
  // on a cluster: a released event would wait for it to time out (up to 2 s).
  test("an event released while a listener waits on one API's streams comes back before the wait times out", async (t) => {
    const [api] = await apisOnDifferentMasters(1);
    const bus = new RedisEventTransport({ redis, events: testEventsConfig(api!, { streamUse: 'per_event' }), logger: silentLogger() });
    t.after(() => bus.close());
    const group = `${api}-g`;
    const consumer = bus.consume({ group, consumer: 'p1', events: [{ api: api!, event: 'a' }, { api: api!, event: 'b' }] });
    await consumer.ready;
    const event = newEvent(api!, 'a');
    await bus.send(event);
    const [first] = await take(consumer, 1);
    const waiting = consumer.next(10);
    const stream = keys.stream(api!, 'a', 'per_event');
    const node = await cluster.masterOf(stream);
    const waiter = `lightbus:events:${group}:${stream}`;
    await eventually(async () => (await cluster.clientNames(node, { blocked: true })).includes(waiter), 5000, 'the listener blocked');
    consumer.release([first!]);
    const [again] = await within(waiting, 10_000, 'the released event');
    assert.equal(again!.message.id, event.id);
    assert.ok((await cluster.clientNames(node, { blocked: true })).includes(waiter), 'the wake ended the wait, not the block timing out');
    await consumer.ack([again!]);
  });

  test('inspect finds the hash-tagged streams and queues on every master', async () => {
    const apis = await apisOnDifferentMasters(3);
    for (const api of apis) {
      await raw.xadd(keys.stream(api, '*', 'per_api'), '*', '', '');
      await raw.rpush(keys.rpcQueue(api), 'x');
    }
    const patterns = [parseMemberPattern('t_*')];
    const streams = await findEventStreams(raw, patterns, 'lightbus:dead_letter:stream');
    const queues = await findRpcQueues(raw, patterns);
    for (const api of apis) {
      assert.ok(streams.some((s) => s.api === api && s.key === keys.stream(api, '*', 'per_api') && s.event === undefined), `${api}'s stream found`);
      assert.ok(queues.some((q) => q.api === api && q.key === keys.rpcQueue(api)), `${api}'s queue found`);
    }
  });
});

registerConformance('redis cluster, hash-tagged keys', redis, raw);
