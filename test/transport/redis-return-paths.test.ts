/**
 * A caller names the key its result goes to, so a server must not write (or expire) any key a
 * caller names: only lists of the result-key shapes. Raw calls, hand-built as a hostile or
 * buggy client would, on a private redis-server (the victims include `schemas` and the
 * dead-letter stream, which the shared server's other users rely on).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, rpc, Type, type Bus } from '../../src/index.js';
import { RedisResultTransport } from '../../src/transport/redis/result-transport.js';
import { capturingLogger, type LogRecord } from '../helpers/events.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName, waitFor } from '../helpers/wait.js';

const API = uniqueName('auth');
const echoApi = defineApi(API, { rpcs: { echo: rpc({ text: Type.String() }, Type.String()) } });

let redis: RedisServer;
let raw: Redis;
let server: Bus;
let caller: Bus;
let records: LogRecord[];
const executed: string[] = [];

/** Pushes a call the way any client can: marker, then the blob, with the return path it likes. */
async function rawCall(returnPath: string, text = randomUUID()): Promise<{ id: string; text: string }> {
  const id = randomUUID();
  await raw.set(`rpc_expiry_key:${id}`, '1', 'EX', 5);
  const blob = { kwargs: { text }, metadata: { api_name: API, id, procedure_name: 'echo', return_path: returnPath } };
  await raw.rpush(`${API}:rpc_queue`, JSON.stringify(blob));
  return { id, text };
}

/** TYPE and PTTL of each key, and what it holds, to compare before and after. */
async function snapshot(keys: string[]): Promise<unknown[]> {
  return Promise.all(
    keys.map(async (key) => {
      const type = await raw.type(key);
      const pttl = await raw.pttl(key);
      const size =
        type === 'stream' ? await raw.xlen(key) : type === 'set' ? await raw.scard(key) : type === 'hash' ? await raw.hlen(key) : type === 'list' ? await raw.llen(key) : type === 'string' ? await raw.get(key) : null;
      return { key, type, pttl: pttl > 0 ? 'expiring' : pttl, size };
    }),
  );
}

before(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
  const captured = capturingLogger();
  records = captured.records;
  server = createBus({ config: { redis: { url: redis.url }, serviceName: 'server', processName: 'server-1' }, logger: captured.logger });
  await server.serve(echoApi, {
    echo: ({ text }) => {
      executed.push(text);
      return text;
    },
  });
  caller = createBus({ config: { redis: { url: redis.url }, serviceName: 'caller', logLevel: 'silent' } });
  assert.equal(await caller.call(`${API}.echo`, { text: 'warm-up' }, { timeoutMs: 10_000 }), 'warm-up');
});

after(async () => {
  await Promise.all([server?.close(), caller?.close()]);
  raw?.disconnect();
  await redis?.stop();
});

describe('return paths a server writes to', () => {
  test('a call naming a stream, `schemas`, a hash, the dead-letter stream, a string key or an absent key of another shape: not executed, nothing written or expired', async () => {
    const stream = `${API}.*:stream`;
    await raw.xadd(stream, '*', 'id', 'e1', 'api_name', API, 'event_name', 'x', 'version', '1');
    await raw.xgroup('CREATE', stream, 'svc-listener', '0');
    await raw.sadd('schemas', 'someone_elses_api');
    await raw.hset(`${API}:settings`, 'colour', 'blue');
    await raw.xadd('lightbus:dead_letter:stream', '*', 'reason', 'kept');
    const stringKey = `k${randomUUID()}`;
    await raw.set(stringKey, 'precious');
    const absent = `nothing:here:${randomUUID()}`;
    const victims = [stream, 'schemas', `${API}:settings`, 'lightbus:dead_letter:stream', stringKey, absent];
    const before = await snapshot(victims);

    const sent: Array<{ id: string; text: string }> = [];
    for (const key of victims) sent.push(await rawCall(`redis+key://${key}`));
    // Another shape of garbage: no scheme at all.
    sent.push(await rawCall('schemas'));
    // Each refused call's marker is deleted as the contract says (its call is taken, then dropped).
    await waitFor(async () => (await Promise.all(sent.map(({ id }) => raw.exists(`rpc_expiry_key:${id}`)))).every((n) => n === 0), 'the markers deleted');
    // The server goes on serving valid calls.
    assert.equal(await caller.call(`${API}.echo`, { text: 'after' }, { timeoutMs: 10_000 }), 'after');

    assert.deepEqual(await snapshot(victims), before);
    assert.deepEqual(
      executed.filter((text) => sent.some((call) => call.text === text)),
      [],
      'no refused call was executed',
    );
    assert.equal((await raw.xinfo('GROUPS', stream) as unknown[]).length, 1, 'the stream keeps its group');
    for (const { id } of sent) {
      await waitFor(() => records.some((r) => r.msg.includes('refused') && r['callId'] === id), `a refusal logged for call ${id}`);
    }
  });

  test('a refused return path is logged once per caller, however many calls name it', async () => {
    const path = `redis+key://schemas`;
    const before = records.filter((r) => r.level === 40 && r.msg.includes('refused') && r['returnPath'] === path).length;
    const calls = [await rawCall(path), await rawCall(path), await rawCall(path)];
    await waitFor(async () => (await Promise.all(calls.map(({ id }) => raw.exists(`rpc_expiry_key:${id}`)))).every((n) => n === 0), 'the markers deleted');
    assert.equal(await caller.call(`${API}.echo`, { text: 'again' }, { timeoutMs: 10_000 }), 'again');
    const logged = records.filter((r) => r.level === 40 && r.msg.includes('refused') && r['returnPath'] === path).length;
    // The first test already logged this path (when it ran first), or this one logs it once.
    assert.equal(logged, before === 0 ? 1 : before);
  });

  test('Python-shaped ({api}.{proc}:result:{id}) and our own return paths still get results, with the result ttl', async () => {
    const id = randomUUID();
    const key = `${API}.echo:result:${id}`;
    await raw.set(`rpc_expiry_key:${id}`, '1', 'EX', 5);
    await raw.rpush(`${API}:rpc_queue`, JSON.stringify({ kwargs: { text: 'py' }, metadata: { api_name: API, id, procedure_name: 'echo', return_path: `redis+key://${key}` } }));
    await waitFor(async () => (await raw.llen(key)) === 1, 'a result on the Python-shaped key');
    const ttl = await raw.pttl(key);
    assert.ok(ttl > 0 && ttl <= 60_000, `result ttl ${ttl}`);
    const [blob] = await raw.lrange(key, 0, -1);
    assert.deepEqual(JSON.parse(blob!).kwargs, { result: 'py' });
    await raw.del(key);
    assert.equal(await caller.call(`${API}.echo`, { text: 'ours' }, { timeoutMs: 10_000 }), 'ours');
  });

  test('a return path of the right shape that holds a non-list: the call runs, its result is not written and the key keeps no ttl', async () => {
    const id = randomUUID();
    const key = `${API}.echo:result:${id}`;
    await raw.set(key, 'not a list');
    await raw.set(`rpc_expiry_key:${id}`, '1', 'EX', 5);
    await raw.rpush(`${API}:rpc_queue`, JSON.stringify({ kwargs: { text: `np-${id}` }, metadata: { api_name: API, id, procedure_name: 'echo', return_path: `redis+key://${key}` } }));
    await waitFor(() => records.some((r) => r.msg === 'could not answer an RPC call' && r['callId'] === id), 'the failed answer logged');
    assert.equal(await raw.type(key), 'string');
    assert.equal(await raw.get(key), 'not a list');
    assert.equal(await raw.pttl(key), -1);
    assert.equal(await caller.call(`${API}.echo`, { text: 'still' }, { timeoutMs: 10_000 }), 'still');
    await raw.del(key);
  });

  test('the result transport itself refuses a key of another shape, and a non-list one, without touching it', async () => {
    const { logger } = capturingLogger();
    const results = new RedisResultTransport({ redis: { url: redis.url }, rpc: { resultTtlMs: 60_000 }, logger, serviceName: 's', processName: 'p' });
    try {
      await raw.sadd('schemas', 'kept');
      await assert.rejects(results.send('redis+key://schemas', { id: 'r', rpcMessageId: 'c', result: 1, error: false }), /return path/);
      assert.equal(await raw.pttl('schemas'), -1);
      const key = `${API}.echo:result:${randomUUID()}`;
      await raw.hset(key, 'f', 'v');
      await assert.rejects(results.send(`redis+key://${key}`, { id: 'r', rpcMessageId: 'c', result: 1, error: false }), /not a list/);
      assert.equal(await raw.pttl(key), -1);
      assert.equal(await raw.type(key), 'hash');
    } finally {
      await results.close();
    }
  });
});
