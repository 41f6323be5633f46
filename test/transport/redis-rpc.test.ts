/**
 * The Redis RPC and result transports against the real Redis on 6379: the shared behaviour
 * suite, then what travels on the wire, checked key by key with a plain client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { CONFIG_DEFAULTS } from '../../src/config/defaults.js';
import type { ResolvedConfig } from '../../src/config/schema.js';
import { createTransports } from '../../src/transport/index.js';
import { RedisResultTransport } from '../../src/transport/redis/result-transport.js';
import { RedisRpcTransport } from '../../src/transport/redis/rpc-transport.js';
import { RedisSchemaTransport } from '../../src/transport/redis/schema-transport.js';
import { SCHEMA_SET_KEY, schemaKey } from '../../src/transport/wire/schemas.js';
import { waitFor } from '../helpers/wait.js';
import { asSent, capturingLogger, eventually, newCall, rpcConformance, within, type RpcHarness } from './rpc-conformance.js';

const REDIS = { url: 'redis://127.0.0.1:6379/0' };
const prefix = `t_${randomUUID().slice(0, 8)}`;
let apiCount = 0;

/** JSON as Python's `json.dumps(..., sort_keys=True)` writes it: `", "`/`": "` separators, `\uXXXX` escapes. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((key) => `${pythonJson(key)}: ${pythonJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function redisHarness(raw: Redis) {
  return async (settings: { resultTtlMs: number }): Promise<RpcHarness> => {
    const { logger, records } = capturingLogger();
    const serviceName = `${prefix}_svc`;
    const rpc = new RedisRpcTransport({ redis: REDIS, logger });
    const result = new RedisResultTransport({ redis: REDIS, rpc: settings, logger, serviceName, processName: 'proc' });
    const schema = new RedisSchemaTransport({ redis: REDIS, logger });
    const apis: string[] = [];
    return {
      rpc,
      result,
      schema,
      records,
      newApi() {
        const api = `${prefix}_api${apiCount++}`;
        apis.push(api);
        return api;
      },
      async pushRawCall(api, blob, markerId) {
        if (markerId) await raw.set(`rpc_expiry_key:${markerId}`, '1', 'EX', 5);
        await raw.rpush(`${api}:rpc_queue`, blob);
      },
      async pushRawResult(returnPath, blob) {
        await raw.lpush(returnPath.slice('redis+key://'.length), blob);
      },
      async forgetSchema(api) {
        await raw.srem(SCHEMA_SET_KEY, api);
        await raw.del(schemaKey(api));
      },
      async close() {
        await Promise.all([rpc.close(), result.close(), schema.close()]);
        if (apis.length > 0) await raw.del(...apis.map((api) => `${api}:rpc_queue`));
      },
    };
  };
}

const raw = new Redis(REDIS.url, { lazyConnect: true });
before(() => raw.connect());
after(async () => {
  const leftovers = await raw.keys(`*${prefix}*`);
  if (leftovers.length > 0) await raw.del(...leftovers);
  await raw.quit();
});

rpcConformance('redis', (settings) => redisHarness(raw)(settings));

describe('redis: what travels on the wire', () => {
  const logger = capturingLogger().logger;
  const settings = { resultTtlMs: 60000 };

  test('a call is RPUSHed to {api}:rpc_queue as {kwargs, metadata}, its marker set to 1 with the expiry', async () => {
    const rpc = new RedisRpcTransport({ redis: REDIS, logger });
    const api = `${prefix}.wire_api`;
    const call = newCall(api, 'check_password', { username: 'admin', n: 1n }, 'redis+key://somewhere');
    try {
      await rpc.send(call);
      const blobs = await raw.lrange(`${api}:rpc_queue`, 0, -1);
      assert.equal(blobs.length, 1);
      const decoded = JSON.parse(blobs[0]!) as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(decoded).sort(), ['kwargs', 'metadata']);
      assert.deepEqual(decoded['kwargs'], { username: 'admin', n: 1 });
      // Exactly these four: Python builds RpcMessage(**metadata), so any other field breaks it.
      assert.deepEqual(decoded['metadata'], { api_name: api, id: call.id, procedure_name: 'check_password', return_path: 'redis+key://somewhere' });
      assert.equal(await raw.get(`rpc_expiry_key:${call.id}`), '1');
      const ttl = await raw.pttl(`rpc_expiry_key:${call.id}`);
      assert.ok(ttl > 0 && ttl <= 5000, `marker ttl ${ttl}`);
    } finally {
      await raw.del(`${api}:rpc_queue`, `rpc_expiry_key:${call.id}`);
      await rpc.close();
    }
  });

  test('a Python-style call (RPUSH, SET, EXPIRE, sort_keys JSON) is consumed and its marker deleted', async () => {
    const rpc = new RedisRpcTransport({ redis: REDIS, logger });
    const api = `${prefix}.python_api`;
    const id = randomUUID();
    const blob = pythonJson({
      metadata: { api_name: api, id, procedure_name: 'check_password', return_path: `redis+key://${api}.check_password:result:${id}` },
      kwargs: { username: 'adäm', tags: ['a', 'b'], nested: { x: null } },
    });
    assert.ok(blob.includes('"kwargs": {"nested": {"x": null}, "tags": ["a", "b"], "username": "ad\\u00e4m"}'));
    const consumer = rpc.consume([api]);
    try {
      await raw.pipeline().rpush(`${api}:rpc_queue`, blob).set(`rpc_expiry_key:${id}`, '1').expire(`rpc_expiry_key:${id}`, 5).exec();
      const calls = await within(consumer.next(10), 5000, 'next()');
      assert.deepEqual(asSent(calls), [
        {
          id,
          api,
          procedure: 'check_password',
          kwargs: { username: 'adäm', tags: ['a', 'b'], nested: { x: null } },
          returnPath: `redis+key://${api}.check_password:result:${id}`,
        },
      ]);
      assert.equal(await raw.exists(`rpc_expiry_key:${id}`), 0);
    } finally {
      await rpc.close();
      await raw.del(`${api}:rpc_queue`, `rpc_expiry_key:${id}`);
    }
  });

  test('calls sent in one tick to one API reach the queue in order, each with its own marker', async () => {
    const rpc = new RedisRpcTransport({ redis: REDIS, logger });
    const api = `${prefix}.burst`;
    const calls = Array.from({ length: 1500 }, (_, n) => newCall(api, 'p', { n }, 'redis+key://nowhere.p:result:1'));
    try {
      await Promise.all(calls.map((call) => rpc.send(call)));
      const queued = await raw.lrange(`${api}:rpc_queue`, 0, -1);
      assert.deepEqual(
        queued.map((blob) => (JSON.parse(blob) as { metadata: { id: string } }).metadata.id),
        calls.map((call) => call.id),
      );
      const ttls = await Promise.all(calls.map((call) => raw.pttl(`rpc_expiry_key:${call.id}`)));
      assert.ok(ttls.every((ttl) => ttl > 0 && ttl <= 5000), `marker ttls ${ttls.filter((t) => t <= 0).length} missing`);
    } finally {
      await rpc.close();
      await raw.del(`${api}:rpc_queue`, ...calls.map((call) => `rpc_expiry_key:${call.id}`));
    }
  });

  test('a call BLPOP wakes up for comes out at once; the next read deletes its marker, and warns when it had none', async () => {
    const { logger: watched, records } = capturingLogger();
    const rpc = new RedisRpcTransport({ redis: REDIS, logger: watched });
    const api = `${prefix}.blocking`;
    const consumer = rpc.consume([api]);
    try {
      const first = consumer.next(10);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const call = newCall(api, 'p', {}, 'redis+key://nowhere.p:result:1');
      await rpc.send(call);
      assert.deepEqual(asSent(await within(first, 5000, 'next()')), [call]);
      assert.equal(await raw.exists(`rpc_expiry_key:${call.id}`), 1);
      const second = consumer.next(10);
      await waitFor(async () => (await raw.exists(`rpc_expiry_key:${call.id}`)) === 0 || undefined, 'marker deleted by the next read');
      // A caller that wrote no marker: the call still runs (it is a moment old), with a warning.
      const unmarked = newCall(api, 'q', {}, 'redis+key://nowhere.p:result:1');
      await raw.rpush(`${api}:rpc_queue`, JSON.stringify({ kwargs: {}, metadata: { api_name: api, id: unmarked.id, procedure_name: 'q', return_path: 'redis+key://nowhere.p:result:1' } }));
      assert.deepEqual(asSent(await within(second, 5000, 'next()')), [unmarked]);
      const third = consumer.next(10);
      await waitFor(() => records.some((r) => String(r.msg).startsWith('ran RPC calls whose expiry marker was missing')) || undefined, 'a warning');
      void third;
    } finally {
      await consumer.close();
      await rpc.close();
      await raw.del(`${api}:rpc_queue`);
    }
  });

  test('a call popped behind a busy drain runs only after its marker is found; a burst popped together runs together, up to the free slots; closing puts back what nobody took', async () => {
    const { logger: watched, records } = capturingLogger();
    const rpc = new RedisRpcTransport({ redis: REDIS, logger: watched });
    const api = `${prefix}.backlog`;
    const calls = Array.from({ length: 4 }, (_, n) => newCall(api, 'p', { n }, 'redis+key://nowhere.p:result:1', 300));
    await Promise.all(calls.map((call) => rpc.send(call)));
    const consumer = rpc.consume([api]);
    try {
      // Two by the drain; the BLPOP sent behind it pops the third, which is held back.
      assert.deepEqual(asSent(await within(consumer.next(2), 5000, 'next()')), calls.slice(0, 2));
      await waitFor(async () => (await raw.llen(`${api}:rpc_queue`)) === 1 || undefined, 'third call popped');
      await new Promise((resolve) => setTimeout(resolve, 400));
      const late = newCall(api, 'p', { n: 4 }, 'redis+key://nowhere.p:result:1', 300);
      await rpc.send(late);
      // The third's marker expired while it was held: dropped. The fourth's expired in the
      // queue, and the queue (whose TTL is its longest marker's) went with it.
      assert.deepEqual(asSent(await within(consumer.next(10), 5000, 'next()')), [late]);
      const dropped = records.filter((r) => r.msg === 'dropped an expired RPC call').map((r) => r['id']);
      assert.deepEqual(dropped, [calls[2]!.id]);

      // That drain took less than it asked for, but the pop behind it was sent while a backlog
      // was still assumed: it takes one call.
      const lone = newCall(api, 'r', {}, 'redis+key://nowhere.p:result:1', 5000);
      const first = consumer.next(2);
      await rpc.send(lone);
      assert.deepEqual(asSent(await within(first, 5000, 'next()')), [lone]);
      // The next drain finds nothing: the pop behind it takes a whole burst, as many calls as
      // the drain asked for, which run at once; the rest wait in the queue.
      const burst = consumer.next(2);
      await waitFor(async () => (await raw.exists(`rpc_expiry_key:${lone.id}`)) === 0 || undefined, 'the drain that deletes its marker');
      const more = Array.from({ length: 3 }, (_, n) => newCall(api, 'q', { n }, 'redis+key://nowhere.p:result:1', 5000));
      await Promise.all(more.map((call) => rpc.send(call)));
      assert.deepEqual(asSent(await within(burst, 5000, 'next()')), more.slice(0, 2));
      assert.equal(await raw.llen(`${api}:rpc_queue`), 1, 'the third waits in the queue');
      assert.deepEqual(asSent(await within(consumer.next(2), 5000, 'next()')), more.slice(2));
      // The pop behind that drain takes the next call; nobody asks for it before the close.
      const untaken = newCall(api, 's', {}, 'redis+key://nowhere.p:result:1', 5000);
      await rpc.send(untaken);
      await waitFor(async () => (await raw.llen(`${api}:rpc_queue`)) === 0 || undefined, 'last call popped');
      await consumer.close();
      const left = await raw.lrange(`${api}:rpc_queue`, 0, -1);
      assert.deepEqual(left.map((blob) => (JSON.parse(blob) as { metadata: { id: string } }).metadata.id), [untaken.id]);
    } finally {
      await consumer.close();
      await rpc.close();
      await raw.del(`${api}:rpc_queue`);
    }
  });

  test('a burst popped for more slots than a read has runs only up to them; the rest run after their markers are found', async () => {
    const rpc = new RedisRpcTransport({ redis: REDIS, logger });
    const api = `${prefix}.surplus`;
    const consumer = rpc.consume([api]);
    const call = (n: number) => newCall(api, 'p', { n }, 'redis+key://nowhere.p:result:1', 5000);
    try {
      // Learn that there is no backlog: a drain that finds nothing, then a pop that brings one call.
      const idle = consumer.next(3);
      await waitFor(async () => /cmd=blmpop/.test(String(await raw.client('LIST')).split('\n').find((line) => line.includes(`name=lightbus:rpc:consume:${api} `)) ?? '') || undefined, 'the consumer blocked');
      const first = call(0);
      await rpc.send(first);
      assert.deepEqual(asSent(await within(idle, 5000, 'next()')), [first]);
      // One call waits: the drain takes it (fewer than the 3 it asks for) and the pop behind it
      // may take 3 more, which arrive together.
      const waiting = call(1);
      await rpc.send(waiting);
      assert.deepEqual(asSent(await within(consumer.next(3), 5000, 'next()')), [waiting]);
      const burst = [call(2), call(3), call(4)];
      await Promise.all(burst.map((c) => rpc.send(c)));
      await waitFor(async () => (await raw.llen(`${api}:rpc_queue`)) === 0 || undefined, 'the burst popped');
      // Now one slot is free: one of the burst runs, the others are held.
      assert.deepEqual(asSent(await within(consumer.next(1), 5000, 'next()')), burst.slice(0, 1));
      const markers = burst.map((c) => `rpc_expiry_key:${c.id}`);
      assert.equal(await raw.exists(...markers.slice(1)), 2, 'the held calls still have their markers');
      assert.deepEqual(asSent(await within(consumer.next(5), 5000, 'next()')), burst.slice(1));
      assert.equal(await raw.exists(...markers), 0, 'every marker taken');
    } finally {
      await consumer.close();
      await rpc.close();
      await raw.del(`${api}:rpc_queue`);
    }
  });

  test('a result is LPUSHed to the return path key with the result ttl; an error result adds the trace', async () => {
    const result = new RedisResultTransport({ redis: REDIS, rpc: settings, logger, serviceName: prefix, processName: 'p' });
    const key = `${prefix}.auth.check:result:${randomUUID()}`;
    try {
      await result.send(`redis+key://${key}`, { id: 'r1', rpcMessageId: 'c1', result: { ok: true, at: new Date(0) }, error: false });
      await result.send(`redis+key://${key}`, { id: 'r2', rpcMessageId: 'c2', result: 'Error: boom', error: true, trace: 'Error: boom\n  at x' });
      const blobs = (await raw.lrange(key, 0, -1)).map((blob) => JSON.parse(blob) as unknown);
      assert.deepEqual(blobs, [
        { kwargs: { result: 'Error: boom' }, metadata: { error: true, id: 'r2', rpc_message_id: 'c2', trace: 'Error: boom\n  at x' } },
        { kwargs: { result: { ok: true, at: '1970-01-01T00:00:00.000Z' } }, metadata: { error: false, id: 'r1', rpc_message_id: 'c1' } },
      ]);
      const ttl = await raw.pttl(key);
      assert.ok(ttl > 0 && ttl <= 60000, `result list ttl ${ttl}`);
    } finally {
      await raw.del(key);
      await result.close();
    }
  });

  test('the return path is one list per transport instance, deleted on close', async () => {
    const first = new RedisResultTransport({ redis: REDIS, rpc: settings, logger, serviceName: prefix, processName: 'same' });
    const second = new RedisResultTransport({ redis: REDIS, rpc: settings, logger, serviceName: prefix, processName: 'same' });
    assert.match(first.returnPath, new RegExp(`^redis\\+key://lightbus:results:${prefix}:same:[0-9a-f]+$`));
    assert.notEqual(first.returnPath, second.returnPath);
    first.listen(() => undefined);
    const key = first.returnPath.slice('redis+key://'.length);
    await second.send(first.returnPath, { id: 'r', rpcMessageId: 'nobody-waits', result: null, error: false });
    await first.close();
    await second.close();
    assert.equal(await raw.exists(key), 0);
  });

  test('closed transports leave no open handles', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    const before = sockets();
    const rpc = new RedisRpcTransport({ redis: REDIS, logger });
    const result = new RedisResultTransport({ redis: REDIS, rpc: settings, logger, serviceName: prefix, processName: 'h' });
    const schema = new RedisSchemaTransport({ redis: REDIS, logger });
    const api = `${prefix}_handles`;
    const consumer = rpc.consume([api]);
    result.listen(() => undefined);
    const call = newCall(api, 'x', {}, result.returnPath);
    await rpc.send(call);
    assert.equal((await within(consumer.next(1), 5000, 'next()')).length, 1);
    await result.send(result.returnPath, { id: 'r', rpcMessageId: call.id, result: 1, error: false });
    await schema.load();
    const blocked = consumer.next(1);
    await Promise.all([rpc.close(), result.close(), schema.close()]);
    assert.deepEqual(await blocked, []);
    await eventually(() => sockets() <= before, 5000, 'sockets closed');
  });

  test('createTransports(redis) builds transports that talk over Redis and close cleanly', async () => {
    const config: ResolvedConfig = { ...CONFIG_DEFAULTS, serviceName: prefix, processName: 'factory', apis: {} };
    const transports = createTransports(config, logger);
    const api = `${prefix}_factory`;
    try {
      const consumer = transports.rpc.consume([api]);
      const call = newCall(api, 'x', {}, transports.result.returnPath);
      await transports.rpc.send(call);
      assert.deepEqual(asSent(await within(consumer.next(1), 5000, 'next()')), [call]);
      assert.match(transports.result.returnPath, /^redis\+key:\/\/lightbus:results:/);
    } finally {
      await within(transports.close(), 5000, 'close()');
      await raw.del(`${api}:rpc_queue`);
    }
  });
});
