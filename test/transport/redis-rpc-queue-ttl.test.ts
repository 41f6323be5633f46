/**
 * Call queues do not outlive their calls: every call in `{api}:rpc_queue` is dead once its
 * expiry marker is gone, so a caller's write gives the queue a TTL no shorter than the longest
 * marker it holds. On the real Redis (6379), with unique API names and short expiries.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createBus } from '../../src/index.js';
import { RedisRpcTransport } from '../../src/transport/redis/rpc-transport.js';
import { encodeCall, expiryMarkerKey, rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { uniqueName, waitFor } from '../helpers/wait.js';
import { newCall } from './rpc-conformance.js';

const REDIS = { url: 'redis://127.0.0.1:6379/0' };
const raw = new Redis(REDIS.url);
const keys: string[] = [];
const transports: RedisRpcTransport[] = [];
const logger = pino({ level: 'silent' });

const rpc = new RedisRpcTransport({ redis: REDIS, logger });
transports.push(rpc);

function unservedQueue(): { api: string; queue: string } {
  const api = uniqueName('ttl');
  const queue = rpcQueueKey(api);
  keys.push(queue);
  return { api, queue };
}

after(async () => {
  await Promise.all(transports.map((t) => t.close()));
  if (keys.length > 0) await raw.del(...keys);
  raw.disconnect();
});

test('a call to an API nobody serves leaves its queue with a TTL (lone and batched sends), gone once the markers expired', async () => {
  const lone = unservedQueue();
  await rpc.send(newCall(lone.api, 'anything', {}, 'redis+key://nowhere', 1500));
  const batched = unservedQueue();
  await Promise.all(Array.from({ length: 5 }, (_, n) => rpc.send(newCall(batched.api, 'anything', {}, 'redis+key://nowhere', 1000 + n * 100))));
  for (const { queue } of [lone, batched]) {
    const ttl = await raw.pttl(queue);
    assert.ok(ttl > 0 && ttl <= 1500, `${queue} has a TTL no longer than the marker (PTTL ${ttl})`);
  }
  assert.equal(await raw.llen(batched.queue), 5);
  await waitFor(async () => (await raw.exists(lone.queue, batched.queue)) === 0, 'the queues to expire with their calls', 10_000);
});

test("a shorter call never shortens the queue's TTL; a longer one extends it", async () => {
  const { api, queue } = unservedQueue();
  await rpc.send(newCall(api, 'slow', {}, 'redis+key://nowhere', 20_000));
  await rpc.send(newCall(api, 'quick', {}, 'redis+key://nowhere', 200));
  const afterShort = await raw.pttl(queue);
  assert.ok(afterShort > 10_000, `the 20 s call keeps the queue alive (PTTL ${afterShort})`);
  await rpc.send(newCall(api, 'slower', {}, 'redis+key://nowhere', 60_000));
  assert.ok((await raw.pttl(queue)) > 20_000, 'a longer call extends it');
});

test('a queue left without a TTL (as a Python caller writes it) gets one covering its newest call', async () => {
  const { api, queue } = unservedQueue();
  const python = newCall(api, 'check', {}, `redis+key://${api}.check:result:x`);
  keys.push(expiryMarkerKey(python.id));
  await raw.set(expiryMarkerKey(python.id), '1', 'EX', 30);
  await raw.rpush(queue, encodeCall(python));
  assert.equal(await raw.pttl(queue), -1);
  await rpc.send(newCall(api, 'check', {}, 'redis+key://nowhere', 1000));
  const ttl = await raw.pttl(queue);
  assert.ok(ttl > 20_000, `the Python call's marker (30 s) is covered, not just ours (PTTL ${ttl})`);
});

test('a served API still answers, and its drained queue leaves no key behind', async () => {
  const api = uniqueName('ttlserved');
  keys.push(rpcQueueKey(api), `schema:${api}`);
  const { defineApi, rpc, Type } = await import('../../src/index.js');
  const echo = defineApi(api, { rpcs: { echo: rpc({ text: Type.String() }, Type.String()) } });
  const config = { serviceName: uniqueName('svc'), logLevel: 'silent' as const, redis: REDIS, apis: { default: { rpcTimeoutMs: 2000 } } };
  const server = createBus({ config });
  const caller = createBus({ config });
  try {
    await server.serve(echo, { echo: ({ text }) => text });
    const answers = await Promise.all(['a', 'b', 'c'].map((text) => caller.call(echo.rpcs.echo, { text })));
    assert.deepEqual(answers, ['a', 'b', 'c']);
    assert.equal(await raw.exists(rpcQueueKey(api)), 0);
  } finally {
    await caller.close();
    await server.close();
    await raw.srem('schemas', api);
  }
});

