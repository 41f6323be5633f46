/** The Redis schema transport against the real Redis on 6379, checked key by key. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisSchemaTransport } from '../../src/transport/redis/schema-transport.js';
import { capturingLogger } from './rpc-conformance.js';

const REDIS = { url: 'redis://127.0.0.1:6379/0' };
const prefix = `t_${randomUUID().slice(0, 8)}`;
const raw = new Redis(REDIS.url, { lazyConnect: true });
const { logger, records } = capturingLogger();
const transport = new RedisSchemaTransport({ redis: REDIS, logger });
const apis = ['stored', 'expired', 'broken', 'python'].map((name) => `${prefix}.${name}`);
const [stored, expired, broken, python] = apis as [string, string, string, string];

before(() => raw.connect());
after(async () => {
  await raw.srem('schemas', ...apis);
  await raw.del(...apis.map((api) => `schema:${api}`));
  await transport.close();
  await raw.quit();
});

const schema = {
  rpcs: { check_password: { parameters: { type: 'object', properties: { username: { type: 'string' } } }, response: { type: 'boolean' } } },
  events: { user_registered: { parameters: { type: 'object' } } },
};

test('store sets schema:{api} to compact JSON with the ttl and adds the API to the schemas set', async () => {
  await transport.store(stored, schema, 60000);
  assert.equal(await raw.get(`schema:${stored}`), JSON.stringify(schema));
  const ttl = await raw.pttl(`schema:${stored}`);
  assert.ok(ttl > 0 && ttl <= 60000, `schema ttl ${ttl}`);
  assert.equal(await raw.sismember('schemas', stored), 1);
});

test('load returns live schemas, Python-written ones included, and skips expired and unreadable entries', async () => {
  await transport.store(stored, schema, 60000);
  await transport.store(expired, schema, 20);
  // As Python writes it: sort_keys JSON, SET + EXPIRE (seconds) + SADD.
  await raw.pipeline().set(`schema:${python}`, '{"events": {}, "rpcs": {"ping": {"parameters": {}, "response": {}}}}').expire(`schema:${python}`, 60).sadd('schemas', python).exec();
  await raw.pipeline().set(`schema:${broken}`, '{not json').expire(`schema:${broken}`, 60).sadd('schemas', broken).exec();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const loaded = await transport.load();
  assert.deepEqual(loaded[stored], schema);
  assert.deepEqual(loaded[python], { events: {}, rpcs: { ping: { parameters: {}, response: {} } } });
  assert.equal(expired in loaded, false);
  assert.equal(broken in loaded, false);
  assert.ok(records.some((r) => r.msg === 'skipped an unreadable schema' && r['api'] === broken));
});
