/**
 * The memory RPC, result and schema transports: the shared behaviour suite (harnesses sharing
 * one store, as processes share one Redis), then what is specific to memory.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { CONFIG_DEFAULTS } from '../../src/config/defaults.js';
import type { ResolvedConfig } from '../../src/config/schema.js';
import { createTransports } from '../../src/transport/index.js';
import { MEMORY_RETURN_PATH_SCHEME, MemoryResultTransport } from '../../src/transport/memory/result-transport.js';
import { MemoryRpcStore } from '../../src/transport/memory/rpc-store.js';
import { MemoryRpcTransport } from '../../src/transport/memory/rpc-transport.js';
import { MemorySchemaTransport } from '../../src/transport/memory/schema-transport.js';
import { MemoryStore } from '../../src/transport/memory/store.js';
import type { RpcResult } from '../../src/transport/types.js';
import { rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { asSent, capturingLogger, eventually, newCall, rpcConformance, within } from './rpc-conformance.js';

const shared = new MemoryRpcStore();
let apiCount = 0;

rpcConformance('memory', async (settings) => {
  const { logger, records } = capturingLogger();
  const rpc = new MemoryRpcTransport({ logger, store: shared });
  const result = new MemoryResultTransport({ rpc: settings, logger, serviceName: 'svc', processName: 'proc', store: shared });
  const schema = new MemorySchemaTransport({ logger, store: shared });
  return {
    rpc,
    result,
    schema,
    records,
    newApi: () => `api${apiCount++}`,
    async pushRawCall(api, blob, markerId) {
      if (markerId) shared.setMarker(markerId, 5000);
      shared.push(rpcQueueKey(api), [blob]);
    },
    async pushRawResult(returnPath, blob) {
      shared.push(returnPath.slice(MEMORY_RETURN_PATH_SCHEME.length), [blob], 60000);
    },
    async forgetSchema() {},
    async close() {
      await Promise.all([rpc.close(), result.close(), schema.close()]);
    },
  };
});

describe('memory: specifics', () => {
  const { logger } = capturingLogger();
  const settings = { resultTtlMs: 60000 };

  test('expiry markers and result lists do not keep the process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const store = new MemoryRpcStore();
    const rpc = new MemoryRpcTransport({ logger, store });
    const result = new MemoryResultTransport({ rpc: settings, logger, serviceName: 's', processName: 'p', store });
    const before = timers();
    await rpc.send(newCall('api', 'x', {}, result.returnPath));
    await result.send(result.returnPath, { id: 'r', rpcMessageId: 'c', result: null, error: false });
    assert.equal(timers(), before);
    assert.equal(store.peek(rpcQueueKey('api')).length, 1);
    await Promise.all([rpc.close(), result.close()]);
  });

  test('separate stores are separate buses; MemoryRpcStore.of() gives one store per shared owner', async () => {
    const owner = {};
    assert.equal(MemoryRpcStore.of(owner), MemoryRpcStore.of(owner));
    assert.notEqual(MemoryRpcStore.of(owner), MemoryRpcStore.of({}));
    const sender = new MemoryRpcTransport({ logger, store: new MemoryRpcStore() });
    const server = new MemoryRpcTransport({ logger, store: MemoryRpcStore.of(owner) });
    const consumer = server.consume(['api']);
    const waiting = consumer.next(1);
    await sender.send(newCall('api', 'x', {}, 'memory+key://r.p:result:1'));
    const call = newCall('api', 'y', {}, 'memory+key://r.p:result:1');
    await new MemoryRpcTransport({ logger, store: MemoryRpcStore.of(owner) }).send(call);
    assert.deepEqual(asSent(await within(waiting, 5000, 'next()')), [call]);
    await Promise.all([sender.close(), server.close()]);
  });

  test('a result list nobody reads expires', async () => {
    const store = new MemoryRpcStore();
    const result = new MemoryResultTransport({ rpc: { resultTtlMs: 30 }, logger, serviceName: 's', processName: 'p', store });
    const key = `lost.p:result:${randomUUID()}`;
    await result.send(MEMORY_RETURN_PATH_SCHEME + key, { id: 'r', rpcMessageId: 'c', result: 1, error: false });
    assert.equal(store.peek(key).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(store.peek(key).length, 0);
    await result.close();
  });

  test('a Redis return path is refused by the memory result transport', async () => {
    const result = new MemoryResultTransport({ rpc: settings, logger, serviceName: 's', processName: 'p' });
    await assert.rejects(
      result.send('redis+key://a:result:1', { id: 'r', rpcMessageId: 'c', result: 1, error: false }),
      /Unsupported return path "redis\+key:\/\/a:result:1"/,
    );
    await result.close();
  });

  test('createTransports(memory): two buses given one store reach each other', async () => {
    const store = new MemoryStore();
    const config: ResolvedConfig = { ...CONFIG_DEFAULTS, transport: 'memory', serviceName: 'svc', processName: 'caller', apis: {} };
    const caller = createTransports(config, logger, store);
    const server = createTransports({ ...config, processName: 'server' }, logger, store);
    try {
      const received: RpcResult[] = [];
      caller.result.listen((result) => received.push(result));
      const consumer = server.rpc.consume(['auth']);
      const call = newCall('auth', 'check', { username: 'adam' }, caller.result.returnPath);
      await caller.rpc.send(call);
      const [served] = asSent(await within(consumer.next(1), 5000, 'next()'));
      assert.ok(served);
      assert.deepEqual(served, call);
      await server.result.send(served.returnPath, { id: 'r', rpcMessageId: call.id, result: true, error: false });
      await eventually(() => received.length === 1, 5000, 'result');
      await server.schema.store('auth', { rpcs: {}, events: {} }, 60000);
      assert.deepEqual(await caller.schema.load(), { auth: { rpcs: {}, events: {} } });
      const fired = await caller.event.send({ id: 'e', api: 'auth', event: 'registered', version: 1, kwargs: {} });
      assert.equal(store.xrange('auth.*:stream').at(-1)?.streamId, fired.streamId);
    } finally {
      await Promise.all([caller.close(), server.close()]);
    }
  });
  test('as over Redis, a call whose return path is not a result key is dropped unexecuted (logged once), and no result is pushed to such a key', async () => {
    const captured = capturingLogger();
    const store = new MemoryRpcStore();
    const rpc = new MemoryRpcTransport({ logger: captured.logger, store });
    const result = new MemoryResultTransport({ rpc: settings, logger, serviceName: 's', processName: 'p', store });
    const consumer = rpc.consume(['api']);
    try {
      store.push(rpcQueueKey('victim'), ['queued call']);
      const hostile = [0, 1].map(() => newCall('api', 'x', {}, `${MEMORY_RETURN_PATH_SCHEME}${rpcQueueKey('victim')}`));
      const valid = newCall('api', 'y', {}, `${MEMORY_RETURN_PATH_SCHEME}api.y:result:${randomUUID()}`);
      for (const call of [...hostile, valid]) await rpc.send(call);
      assert.deepEqual(asSent(await within(consumer.next(10), 5000, 'next()')), [valid]);
      const refusals = captured.records.filter((r) => r.level === 40 && r.msg.includes('refused'));
      assert.equal(refusals.length, 1);
      assert.equal(refusals[0]!['callId'], hostile[0]!.id);
      await assert.rejects(
        result.send(`${MEMORY_RETURN_PATH_SCHEME}${rpcQueueKey('victim')}`, { id: 'r', rpcMessageId: 'c', result: 1, error: false }),
        /Unsupported return path/,
      );
      assert.deepEqual(store.peek(rpcQueueKey('victim')), ['queued call']);
    } finally {
      await Promise.all([consumer.close(), rpc.close(), result.close()]);
    }
  });
});
