// Firing while Redis is away waits for the reconnect, but no longer than the fire timeout.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createBus, FireTimeoutError, type Bus } from '../../src/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName } from '../helpers/wait.js';

let server: RedisServer | undefined;
let bus: Bus | undefined;

after(async () => {
  await bus?.close();
  await server?.stop();
});

test('a fire that Redis cannot take in time fails with FireTimeoutError naming the event; later fires work again', async () => {
  server = await startRedisServer();
  const api = uniqueName('firetimeout');
  bus = createBus({ config: { serviceName: api, logLevel: 'silent', redis: { url: server.url } } });
  const first = await bus.fire(`${api}.happened`, { n: 1 });
  assert.match(first.streamId, /^\d+-\d+$/);
  await server.kill();
  const started = Date.now();
  const error = await bus.fire(`${api}.happened`, { n: 2 }, { timeoutMs: 300 }).catch((e: unknown) => e);
  assert.ok(error instanceof FireTimeoutError, `expected FireTimeoutError, got ${String(error)}`);
  assert.match(error.message, new RegExp(`firing ${api}\\.happened took longer than 300 ms`));
  assert.ok(Date.now() - started >= 300, 'not before its timeout');
  await server.start();
  const again = await bus.fire(`${api}.happened`, { n: 3 }, { timeoutMs: 10_000 });
  assert.match(again.streamId, /^\d+-\d+$/);
});
