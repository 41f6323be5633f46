/**
 * Losing Redis: a private redis-server is killed with SIGKILL and started again on the same
 * port (without persistence, so everything in it is gone). The call consumer and the result
 * listener must carry on by themselves and deliver what is sent after the restart.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { RedisResultTransport } from '../../src/transport/redis/result-transport.js';
import { RedisRpcTransport } from '../../src/transport/redis/rpc-transport.js';
import type { RpcResult } from '../../src/transport/types.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import type { RpcCall } from '../../src/transport/types.js';
import { asSent, capturingLogger, eventually, newCall, within } from './rpc-conformance.js';

const settings = { resultTtlMs: 60000 };
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let server: RedisServer;

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startRedisServer();
});
after(async () => {
  await server.stop();
  process.off('unhandledRejection', onUnhandled);
});

test('after Redis is killed and restarted, the consumer and the result listener deliver what is sent next', async () => {
  const { logger, records } = capturingLogger();
  const redis = { url: server.url };
  const rpc = new RedisRpcTransport({ redis, logger });
  const results = new RedisResultTransport({ redis, rpc: settings, logger, serviceName: 'svc', processName: 'proc' });
  const api = `t_${randomUUID().slice(0, 8)}`;
  const consumer = rpc.consume([api]);
  const received: RpcResult[] = [];
  results.listen((result) => received.push(result));
  try {
    const before = newCall(api, 'first', {}, results.returnPath);
    await rpc.send(before);
    assert.deepEqual(asSent(await within(consumer.next(10), 5000, 'next() before the restart')), [before]);

    // Both loops are blocked (BLPOP) when Redis dies; Redis stays away for a while.
    const waiting = consumer.next(10);
    await sleep(100);
    await server.kill();
    await sleep(500);
    await server.start();

    const after = newCall(api, 'second', { n: 2 }, results.returnPath);
    await within(rpc.send(after), 20000, 'send after the restart');
    assert.deepEqual(asSent(await within(waiting, 20000, 'next() after the restart')), [after]);

    // The drain script is gone from the restarted server's cache and must be loaded again.
    const burst = Array.from({ length: 3 }, (_, n) => newCall(api, 'burst', { n }, results.returnPath));
    await Promise.all(burst.map((call) => rpc.send(call)));
    const drained: RpcCall[] = [];
    while (drained.length < 3) drained.push(...(await within(consumer.next(10), 10000, 'next() of the burst')));
    assert.deepEqual(asSent(drained), burst);

    await within(results.send(results.returnPath, { id: 'r', rpcMessageId: after.id, result: 'ok', error: false }), 20000, 'result send');
    await eventually(() => received.some((result) => result.rpcMessageId === after.id), 20000, 'result after the restart');
    assert.ok(records.some((r) => /redis connection (lost|error)/.test(r.msg)), 'the loss was logged');
  } finally {
    await consumer.close();
    await Promise.all([rpc.close(), results.close()]);
  }
  assert.deepEqual(unhandled, []);
});

test('a result listener started while Redis is down begins delivering once it is back', async () => {
  const { logger } = capturingLogger();
  await server.kill();
  const results = new RedisResultTransport({ redis: { url: server.url }, rpc: settings, logger, serviceName: 'svc', processName: 'late' });
  const received: RpcResult[] = [];
  results.listen((result) => received.push(result));
  try {
    await sleep(300);
    await server.start();
    await within(results.send(results.returnPath, { id: 'r', rpcMessageId: 'c', result: 1, error: false }), 20000, 'result send');
    await eventually(() => received.length === 1, 20000, 'result once Redis is back');
  } finally {
    await results.close();
  }
  assert.deepEqual(unhandled, []);
});
