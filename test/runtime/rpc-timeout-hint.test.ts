// A call that times out rejects on time even when Redis does not answer: whether anyone serves
// the API is told from the schemas this process already holds, not from a new read of Redis.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcTimeoutError, createBus, defineApi, rpc, Type, type Bus } from '../../src/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName } from '../helpers/wait.js';

/** Far above the call's own timeout plus timer jitter on a loaded machine: a bound against hanging. */
const HANG_BOUND_MS = 150;
const TIMEOUT_MS = 200;

const served = defineApi(uniqueName('served'), { rpcs: { ping: rpc({}, Type.String()) } });
const unserved = uniqueName('unserved');
let server: RedisServer;
let bus: Bus;
let paused = false;

before(async () => {
  server = await startRedisServer();
  bus = createBus({ config: { serviceName: uniqueName('hint'), logLevel: 'silent', redis: { url: server.url } } });
  await bus.serve(served, { ping: () => 'pong' });
  assert.equal(await bus.call(served.rpcs.ping, {}, { timeoutMs: 5000 }), 'pong');
});

after(async () => {
  if (paused) process.kill(server.pid, 'SIGCONT');
  await bus.close();
  await server.stop();
});

async function timedOut(call: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const started = performance.now();
  const error = await call().then(
    () => assert.fail('the call should have timed out'),
    (e: unknown) => e,
  );
  return { error, elapsedMs: performance.now() - started };
}

test('with Redis unresponsive, a timed-out call rejects on time and its hint still says who serves the API', async () => {
  // SIGSTOP: the server keeps its socket open but answers nothing, as a stuck Redis does.
  process.kill(server.pid, 'SIGSTOP');
  paused = true;

  const toServed = await timedOut(() => bus.call(served.rpcs.ping, {}, { timeoutMs: TIMEOUT_MS }));
  assert.ok(toServed.error instanceof RpcTimeoutError, `expected an RpcTimeoutError, got ${String(toServed.error)}`);
  assert.ok(toServed.elapsedMs < TIMEOUT_MS + HANG_BOUND_MS, `rejected after ${toServed.elapsedMs.toFixed(0)} ms`);
  assert.match(toServed.error.message, new RegExp(`a process serves API "${served.name}" but did not answer in time`));

  const toUnserved = await timedOut(() => bus.call(`${unserved}.ping`, {}, { timeoutMs: TIMEOUT_MS }));
  assert.ok(toUnserved.error instanceof RpcTimeoutError, `expected an RpcTimeoutError, got ${String(toUnserved.error)}`);
  assert.ok(toUnserved.elapsedMs < TIMEOUT_MS + HANG_BOUND_MS, `rejected after ${toUnserved.elapsedMs.toFixed(0)} ms`);
  assert.match(toUnserved.error.message, new RegExp(`no process is serving API "${unserved}"`));

  process.kill(server.pid, 'SIGCONT');
  paused = false;
});
