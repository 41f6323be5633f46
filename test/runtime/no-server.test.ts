// A call to an API nobody serves fails at once (NoServerError) instead of waiting out its
// timeout; a server's sign (a live heartbeat, or a schema as a Python server leaves) written
// after the caller loaded its view is found by the one fresh look before refusing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { NoServerError, RpcTimeoutError, createBus, defineApi, rpc, Type, type Bus, type CreateBusOptions } from '../../src/index.js';
import { PROCESSES_KEY } from '../../src/transport/redis/presence-transport.js';
import type { ProcessInfo } from '../../src/transport/types.js';
import { decodeCall, encodeResult, returnPathKey, rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { deleteApiKeys } from '../helpers/redis-keys.js';
import { uniqueName } from '../helpers/wait.js';
import { cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const REDIS_URL = 'redis://127.0.0.1:6379/0';
/** The call's own timeout: a refusal must come long before it. */
const TIMEOUT_MS = 5000;
/** The behaviour asked is under 100 ms; asserted generously, for a loaded 2-core machine. */
const FAST_BOUND_MS = 1000;

const redis = new Redis(REDIS_URL);
const apis: string[] = [];
const heartbeatFields: string[] = [];
const buses: Bus[] = [];

function newApi(prefix: string): string {
  const name = uniqueName(prefix);
  apis.push(name);
  return name;
}

function newBus(config: CreateBusOptions['config'] = {}): Bus {
  const bus = createBus({ config: { serviceName: uniqueName('caller'), logLevel: 'silent', redis: { url: REDIS_URL }, ...config } });
  buses.push(bus);
  return bus;
}

/** A caller whose view of the bus (schemas and heartbeats) is loaded, so a missing API reads as "no server". */
async function readyCaller(config: CreateBusOptions['config'] = {}): Promise<Bus> {
  const bus = newBus(config);
  await bus.schemas();
  return bus;
}

/**
 * Serves one call of `api` straight off its queue, as a server written in another language
 * would (the call's kwargs echoed back): no heartbeat, no schema, no lightbus runtime.
 */
async function answerOneCall(api: string): Promise<void> {
  const consumer = new Redis(REDIS_URL);
  try {
    const popped = await consumer.blpop(rpcQueueKey(api), 10);
    assert.ok(popped, `no call of ${api} arrived`);
    const call = decodeCall(popped[1]);
    assert.ok(!('malformed' in call), 'the call decodes');
    await consumer.lpush(returnPathKey(call.returnPath), encodeResult({ id: randomUUID(), rpcMessageId: call.id, result: call.kwargs, error: false }));
  } finally {
    consumer.disconnect();
  }
}

async function elapsed<T>(run: () => Promise<T>): Promise<{ outcome: T | unknown; ms: number; failed: boolean }> {
  const started = performance.now();
  try {
    const outcome = await run();
    return { outcome, ms: performance.now() - started, failed: false };
  } catch (error) {
    return { outcome: error, ms: performance.now() - started, failed: true };
  }
}

before(() => redis.ping());

after(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  if (heartbeatFields.length > 0) await redis.hdel(PROCESSES_KEY, ...heartbeatFields);
  await deleteApiKeys(apis);
  redis.disconnect();
});

test('a call to an API nobody serves fails within 100 ms with NoServerError, not after its timeout', async (t) => {
  const bus = await readyCaller();
  const api = newApi('nobody');
  const first = await elapsed(() => bus.call(`${api}.anything`, { x: 1 }, { timeoutMs: TIMEOUT_MS }));
  const again = await elapsed(() => bus.call(`${api}.anything`, { x: 2 }, { timeoutMs: TIMEOUT_MS }));
  t.diagnostic(`refused after ${first.ms.toFixed(1)} ms (first call), ${again.ms.toFixed(1)} ms (second), against a ${TIMEOUT_MS} ms timeout`);
  for (const { outcome, failed, ms } of [first, again]) {
    assert.ok(failed && outcome instanceof NoServerError, `expected NoServerError, got ${String(outcome)}`);
    assert.equal(outcome.api, api);
    assert.equal(outcome.procedure, 'anything');
    assert.match(outcome.message, new RegExp(`^RPC ${api}\\.anything not sent: no process is serving API "${api}"`));
    assert.match(outcome.message, /start a process that serves it, or check the API name/);
    assert.match(outcome.message, new RegExp(`set apis\\.${api}\\.whenNoServer \\(or apis\\.default\\.whenNoServer\\) to 'wait'`));
    assert.ok(ms < FAST_BOUND_MS, `refused after ${ms.toFixed(0)} ms`);
  }
  // Refused before sending: no call was queued for a server that might start later.
  assert.equal(await redis.llen(rpcQueueKey(api)), 0);
});

test("under whenNoServer 'wait' the call is sent and waits: it times out as before, or a server that starts meanwhile answers it", async () => {
  const timedOutApi = newApi('rolling');
  const laterApi = newApi('rolling');
  const bus = await readyCaller({ apis: { default: { whenNoServer: 'wait' } } });

  const timedOut = await elapsed(() => bus.call(`${timedOutApi}.anything`, {}, { timeoutMs: 300 }));
  assert.ok(timedOut.failed && timedOut.outcome instanceof RpcTimeoutError, `expected RpcTimeoutError, got ${String(timedOut.outcome)}`);
  assert.match(timedOut.outcome.message, new RegExp(`no process is serving API "${timedOutApi}"`));
  assert.ok(timedOut.ms >= 300, `rejected after ${timedOut.ms.toFixed(0)} ms, before its timeout`);

  // A rolling deploy: nothing serves the API when the call leaves; a server comes up a moment later.
  const call = bus.call(`${laterApi}.echo`, { n: 7 }, { timeoutMs: TIMEOUT_MS });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await answerOneCall(laterApi);
  assert.deepEqual(await call, { n: 7 });
});

test('a server started after the caller loaded its view is called, not refused', async () => {
  const bus = await readyCaller();
  const api = defineApi(newApi('fresh'), { rpcs: { ping: rpc({}, Type.String()) } });
  // The caller's view says nobody serves the API: the refusal is what a stale view would give.
  assert.ok((await bus.call(`${api.name}.ping`, {}).catch((e: unknown) => e)) instanceof NoServerError);

  const server = newBus({ serviceName: uniqueName('server') });
  await server.serve(api, { ping: () => 'pong' });
  assert.equal(await bus.call(`${api.name}.ping`, {}, { timeoutMs: TIMEOUT_MS }), 'pong');
});

test("an API whose only sign is its schema on the bus (as a Python server leaves it, no heartbeat) counts as served", async () => {
  const bus = await readyCaller();
  const api = newApi('python');
  // As Python Lightbus publishes it: sort_keys JSON, SET + EXPIRE (seconds) + SADD; written after the caller loaded its view.
  await redis.pipeline().set(`schema:${api}`, '{"events": {}, "rpcs": {"echo": {"parameters": {}, "response": {}}}}').expire(`schema:${api}`, 60).sadd('schemas', api).exec();
  const answered = answerOneCall(api);
  assert.deepEqual(await bus.call(`${api}.echo`, { n: 1 }, { timeoutMs: TIMEOUT_MS }), { n: 1 });
  await answered;
});

test('an API listed only by a live heartbeat counts as served; one listed only by a silent heartbeat does not', async () => {
  const bus = await readyCaller();
  const live = newApi('beating');
  const silent = newApi('silent');
  const beat = (apisServed: string[], lastSeen: Date): ProcessInfo => ({
    service: uniqueName('svc'),
    process: uniqueName('proc'),
    host: 'test',
    pid: 1,
    version: '0.0.0',
    apis: apisServed,
    listeners: [],
    workers: 1,
    startedAt: lastSeen.toISOString(),
    lastSeen: lastSeen.toISOString(),
    intervalMs: 5000,
  });
  for (const info of [beat([live], new Date()), beat([silent], new Date(Date.now() - 60_000))]) {
    const field = `${info.service}:${info.process}`;
    heartbeatFields.push(field);
    await redis.hset(PROCESSES_KEY, field, JSON.stringify(info));
  }
  const answered = answerOneCall(live);
  assert.deepEqual(await bus.call(`${live}.echo`, { n: 2 }, { timeoutMs: TIMEOUT_MS }), { n: 2 });
  await answered;
  const refused = await bus.call(`${silent}.echo`, {}, { timeoutMs: TIMEOUT_MS }).catch((e: unknown) => e);
  assert.ok(refused instanceof NoServerError, `expected NoServerError, got ${String(refused)}`);
});

test('a handler in a worker thread gets the NoServerError itself, with its fields, and as fast', async (t) => {
  const names = testNames('noserver');
  try {
    const runner = await startRunner({ modules: ['calls-unserved.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
    await runner.ready();
    const unserved = newApi('nobody');
    const caller = await readyCaller({ serviceName: names.caller });
    const probe = (await caller.call(`${names.api}.probe`, { target: unserved }, { timeoutMs: 10_000 })) as Record<string, unknown>;
    t.diagnostic(`refused in the worker after ${Number(probe['ms']).toFixed(1)} ms`);
    assert.deepEqual(
      { name: probe['name'], isNoServerError: probe['isNoServerError'], api: probe['api'], procedure: probe['procedure'] },
      { name: 'NoServerError', isNoServerError: true, api: unserved, procedure: 'anything' },
    );
    assert.match(String(probe['message']), new RegExp(`no process is serving API "${unserved}"`));
    assert.ok(Number(probe['ms']) < FAST_BOUND_MS, `refused after ${Number(probe['ms']).toFixed(0)} ms`);
    assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  } finally {
    await cleanUpRunners();
    await cleanUpNames(names);
  }
});
