/**
 * The Redis transports on a Redis Cluster of 3 masters started for this file, with Python's
 * key names (redis.keys 'python'): the RPC and event conformance suites, then the keys of one
 * API spread over several nodes, which only per-slot commands can serve.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import { RedisResultTransport } from '../../src/transport/redis/result-transport.js';
import { RedisRpcTransport } from '../../src/transport/redis/rpc-transport.js';
import { streamKey } from '../../src/transport/wire/events.js';
import { encodeCall, expiryMarkerKey, rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { eventually, newEvent, take } from '../helpers/events.js';
import { DeadLetterNotFoundError, replayDeadLetter } from '../../src/inspect/dead-letters.js';
import { scanKeys } from '../../src/inspect/streams.js';
import { replayStreamKey } from '../../src/transport/replay-stream.js';
import { encodeDeadLetter, encodeEvent } from '../../src/transport/wire/events.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { testEventsConfig } from './event-conformance.js';
import { newCall, within } from './rpc-conformance.js';
import { registerConformance } from './redis-topologies.js';

const cluster = await startRedisCluster();
const redis = { url: 'redis://127.0.0.1:6379/0', cluster: { nodes: cluster.urls } };
const raw = cluster.client();
after(async () => {
  raw.disconnect();
  await cluster.stop();
});

describe('the cluster this file runs on', () => {
  test('spreads a queue, a marker and a stream of one API over different masters', async () => {
    const owners = new Set<number>();
    for (const key of ['auth:rpc_queue', 'rpc_expiry_key:3f1b6a40-0000-4000-8000-000000000000', 'auth.*:stream', 'schemas', 'schema:auth']) {
      owners.add((await cluster.masterOf(key)).port);
    }
    assert.ok(owners.size > 1, 'every key on one master would test nothing');
  });
});

/** `count` API names whose keys (`key(api)`) are served by as many different masters. */
const apisOnDifferentMasters = (count: number, key: (api: string) => string) => cluster.namesOnDifferentMasters(count, key);

describe('multi-key work split per slot', () => {
  test('fires to streams on three masters in one tick each land, in order per stream', async (t) => {
    const apis = await apisOnDifferentMasters(3, (api) => streamKey(api, 'e', 'per_event'));
    const bus = new RedisEventTransport({ redis, events: testEventsConfig(apis[0]!, { streamUse: 'per_event' }), logger: silentLogger() });
    t.after(() => bus.close());
    const sent = await Promise.all(apis.flatMap((api) => [0, 1, 2].map((n) => bus.send(newEvent(api, 'e', { n })))));
    assert.equal(sent.length, 9);
    for (const api of apis) {
      const entries = await raw.xrange(streamKey(api, 'e', 'per_event'), '-', '+');
      assert.deepEqual(entries.map(([, fields]) => fields[fields.indexOf(':n') + 1]), ['0', '1', '2']);
    }
  });

  test('a consumer of streams on different masters, already waiting, gets what is fired to any of them', async (t) => {
    const apis = await apisOnDifferentMasters(2, (api) => streamKey(api, 'e', 'per_event'));
    const bus = new RedisEventTransport({ redis, events: testEventsConfig(apis[0]!, { streamUse: 'per_event' }), logger: silentLogger() });
    t.after(() => bus.close());
    const consumer = bus.consume({ group: `${apis[0]}-g`, consumer: 'p1', events: apis.map((api) => ({ api, event: 'e' })) });
    await consumer.ready;
    for (const api of [...apis].reverse()) {
      const waiting = take(consumer, 1);
      const event = newEvent(api, 'e');
      setTimeout(() => void bus.send(event), 100);
      const [delivered] = await waiting;
      assert.deepEqual(delivered!.message, event);
      await consumer.ack([delivered!]);
    }
  });

  // The wait a release must end is a plain XREAD BLOCK (up to 2 s): had it timed out instead,
  // the stream's blocking client would no longer be blocked when the event comes back.
  for (const count of [1, 2]) {
    test(`an event released while its consumer waits on ${count} stream(s) comes back before the wait times out`, async (t) => {
      const apis = await apisOnDifferentMasters(count, (api) => streamKey(api, 'e', 'per_event'));
      const bus = new RedisEventTransport({ redis, events: testEventsConfig(apis[0]!, { streamUse: 'per_event' }), logger: silentLogger() });
      t.after(() => bus.close());
      const group = `${apis[0]}-g`;
      const consumer = bus.consume({ group, consumer: 'p1', events: apis.map((api) => ({ api, event: 'e' })) });
      await consumer.ready;
      const event = newEvent(apis[0]!, 'e');
      await bus.send(event);
      const [first] = await take(consumer, 1);
      const waiting = consumer.next(10);
      const stream = streamKey(apis[0]!, 'e', 'per_event');
      const node = await cluster.masterOf(stream);
      await eventually(async () => (await cluster.clientNames(node, { blocked: true })).includes(`lightbus:events:${group}:${stream}`), 5000, 'the consumer blocked');
      const everyClient = (await Promise.all(cluster.nodes.map((n) => cluster.clientNames(n)))).flat();
      assert.ok(!everyClient.includes(`lightbus:events:${group}`), 'no group-wide client: only the per-stream ones wait');
      consumer.release([first!]);
      const [again] = await within(waiting, 10_000, 'the released event');
      assert.equal(again!.message.id, event.id);
      assert.ok((await cluster.clientNames(node, { blocked: true })).includes(`lightbus:events:${group}:${stream}`), 'the wake ended the wait, not the block timing out');
      await consumer.ack([again!]);
    });
  }

  test('a server of APIs on different masters, already waiting, gets calls to each; no marker or call is left', async (t) => {
    const apis = await apisOnDifferentMasters(3, rpcQueueKey);
    const logger = silentLogger();
    const rpc = new RedisRpcTransport({ redis, logger });
    const results = new RedisResultTransport({ redis, rpc: { resultTtlMs: 60_000 }, logger, serviceName: 'svc', processName: 'p' });
    t.after(() => Promise.all([rpc.close(), results.close()]));
    const consumer = rpc.consume(apis);
    for (const api of apis) {
      const waiting = consumer.next(10);
      const call = newCall(api, 'p', { api }, results.returnPath, 5000);
      setTimeout(() => void rpc.send(call), 100);
      const calls = await within(waiting, 10_000, `a call to ${api}`);
      assert.deepEqual(calls.map((c) => c.id), [call.id]);
      assert.equal(await raw.exists(`rpc_expiry_key:${call.id}`), 0, 'the marker was taken');
    }
    const burst = apis.flatMap((api) => [1, 2].map((n) => newCall(api, 'p', { n }, results.returnPath, 5000)));
    await Promise.all(burst.map((call) => rpc.send(call)));
    const taken = new Set<string>();
    while (taken.size < burst.length) for (const call of await within(consumer.next(100), 10_000, 'the burst')) taken.add(call.id);
    assert.deepEqual([...taken].sort(), burst.map((call) => call.id).sort());
    for (const api of apis) assert.equal(await raw.llen(rpcQueueKey(api)), 0);
    const ttl = await raw.pttl(rpcQueueKey(apis[0]!));
    assert.equal(ttl, -2, 'the drained queue is gone');
  });
  test('a server closed while its take is out leaves no client open on any master', async () => {
    const apis = await apisOnDifferentMasters(3, rpcQueueKey);
    const logger = silentLogger();
    const results = new RedisResultTransport({ redis, rpc: { resultTtlMs: 60_000 }, logger, serviceName: 'svc', processName: 'p' });
    const sender = new RedisRpcTransport({ redis, logger });
    try {
      // Closes land at every point of a take: blocking, popping, checking markers, about to block again.
      for (let round = 0; round < 24; round++) {
        const rpc = new RedisRpcTransport({ redis, logger });
        const taking = rpc.consume(apis).next(10).catch(() => []);
        if (round % 2 === 1) await sender.send(newCall(apis[round % 3]!, 'p', {}, results.returnPath, 5000));
        await new Promise((resolve) => setTimeout(resolve, round % 6));
        await rpc.close();
        await taking;
      }
    } finally {
      await Promise.all([sender.close(), results.close()]);
    }
    const stillOpen = async () => (await Promise.all(cluster.nodes.map((node) => cluster.clientNames(node)))).flat().filter((name) => apis.some((api) => name.includes(api)));
    await eventually(async () => (await stillOpen()).length === 0, 2000, 'the closed servers’ clients to go').catch(() => undefined);
    assert.deepEqual(await stillOpen(), [], 'clients of closed servers, each reconnecting forever once the cluster is gone');
  });
});

describe('a queue a Python caller made without a TTL', () => {
  // Single-server sends read the newest call's marker to cover it (send-calls.lua); on a
  // cluster that marker is in another slot, so the queue keeps none, as Python leaves it.
  test('keeps none after our calls join it, and is gone once a server drains it', async (t) => {
    const [api] = await apisOnDifferentMasters(1, rpcQueueKey);
    const queue = rpcQueueKey(api!);
    const python = newCall(api!, 'p', {}, `redis+key://${api}.p:result:x`);
    await raw.set(expiryMarkerKey(python.id), '1', 'EX', 30);
    await raw.rpush(queue, encodeCall(python));
    const logger = silentLogger();
    const rpc = new RedisRpcTransport({ redis, logger });
    t.after(() => rpc.close());
    const ours = newCall(api!, 'p', {}, `redis+key://${api}.p:result:y`, 5000);
    await rpc.send(ours);
    assert.equal(await raw.pttl(queue), -1, 'no TTL, not even ours');
    const consumer = rpc.consume([api!]);
    const taken = new Set<string>();
    while (taken.size < 2) for (const call of await within(consumer.next(10), 10_000, 'both calls')) taken.add(call.id);
    assert.deepEqual([...taken].sort(), [python.id, ours.id].sort());
    assert.equal(await raw.exists(queue), 0, 'the drained queue is gone');
  });
});

describe('operations on a cluster', () => {
  test('inspect finds the streams and queues of every master', async () => {
    const apis = await apisOnDifferentMasters(3, (api) => streamKey(api, 'e', 'per_api'));
    for (const api of apis) {
      await raw.xadd(streamKey(api, 'e', 'per_api'), '*', '', '');
      await raw.rpush(rpcQueueKey(api), 'x');
    }
    const streams = await scanKeys(raw, 't_*:stream', 'stream');
    const queues = await scanKeys(raw, 't_*:rpc_queue', 'list');
    for (const api of apis) {
      assert.ok(streams.includes(streamKey(api, 'e', 'per_api')), `${api}'s stream found`);
      assert.ok(queues.includes(rpcQueueKey(api)), `${api}'s queue found`);
    }
  });

  test('a dead letter replays to its stream, or to its group, on another master, once', async () => {
    const [api, dlqApi] = await apisOnDifferentMasters(2, (name) => streamKey(name, 'e', 'per_api'));
    const stream = streamKey(api!, 'e', 'per_api');
    const dlq = streamKey(dlqApi!, 'dead', 'per_api');
    const fields = encodeEvent({ id: 'ev-1', api: api!, event: 'e', version: 1, kwargs: { n: 1 } });
    const letter = async (group: string) =>
      (await raw.xadd(dlq, '*', ...encodeDeadLetter({ stream, streamId: '1-0', group, reason: 'failed', fields, time: new Date() }))) as string;

    const first = await letter('svc-a');
    const replayed = await replayDeadLetter(raw, dlq, first, { maxStreamLength: 1000, allGroups: true });
    assert.deepEqual((await raw.xrange(stream, replayed.streamId, replayed.streamId))[0]?.[1], fields);
    await assert.rejects(replayDeadLetter(raw, dlq, first, { maxStreamLength: 1000, allGroups: true }), DeadLetterNotFoundError);

    const group = `${api}-listener`;
    const second = await letter(group);
    const toGroup = await replayDeadLetter(raw, dlq, second, { maxStreamLength: 1000, listeningGroups: new Set([group]) });
    assert.equal(toGroup.stream, replayStreamKey(group));
    const groups = (await raw.xinfo('GROUPS', replayStreamKey(group))) as unknown[][];
    assert.equal(groups.length, 1, 'the group was created on the replay stream');
    assert.equal(await raw.xlen(dlq), 0, 'both letters left the dead-letter stream');
  });
});

registerConformance('redis cluster', redis, raw);
