/**
 * Schemas on the bus, end to end over Redis: published by servers, loaded and kept fresh by
 * everyone else, used to validate in both directions, revived into Dates on the way in.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, rpc, event, Type, ValidationError, UnknownApiError, RemoteError, type Bus } from '../../src/index.js';
import { DateTime } from '../../src/core/schema-types.js';
import { deleteApiKeys } from '../helpers/redis-keys.js';
import { uniqueName, waitFor } from '../helpers/wait.js';

const redis = new Redis();
const buses: Bus[] = [];
const apis: string[] = [];
const newBus = (config: Record<string, unknown> = {}) => {
  const bus = createBus({ config: { serviceName: uniqueName('svc'), logLevel: 'silent', ...config } });
  buses.push(bus);
  return bus;
};
const defineTimeApi = () => {
  const name = uniqueName('sch');
  apis.push(name);
  return defineApi(name, {
    rpcs: {
      shift: rpc({ at: DateTime(), days: Type.Integer() }, DateTime()),
      echo: rpc({ text: Type.String() }, Type.String()),
    },
    events: { ticked: event({ at: DateTime(), n: Type.Integer() }) },
  });
};

after(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await deleteApiKeys(apis);
  redis.disconnect();
});

test('a server publishes its schema with a TTL and keeps refreshing it; it expires once the server stops', async () => {
  const api = defineTimeApi();
  const server = newBus({ schema: { ttlMs: 600 } });
  await server.serve(api, { shift: ({ at }) => at, echo: ({ text }) => text });
  const stored = JSON.parse((await redis.get(`schema:${api.name}`))!);
  assert.deepEqual(Object.keys(stored.rpcs).sort(), ['echo', 'shift']);
  assert.ok(await redis.sismember('schemas', api.name));
  const ttl = await redis.pttl(`schema:${api.name}`);
  assert.ok(ttl > 0 && ttl <= 600, `ttl ${ttl}`);
  await new Promise((r) => setTimeout(r, 900));
  assert.ok(await redis.exists(`schema:${api.name}`), 'refreshed before it expired');
  await server.close();
  await waitFor(async () => !(await redis.exists(`schema:${api.name}`)), 'the schema to expire', 3000);
});

test('a caller without the definition validates against the schema on the bus, before sending', async () => {
  const api = defineTimeApi();
  const server = newBus();
  let executed = 0;
  await server.serve(api, { shift: ({ at }) => at, echo: ({ text }) => (executed++, text) });
  const client = newBus();
  assert.equal(await client.call(`${api.name}.echo`, { text: 'hi' }), 'hi');
  const error = await client.call(`${api.name}.echo`, { text: 42 }).catch((e: unknown) => e);
  assert.ok(error instanceof ValidationError, String(error));
  assert.match(error.message, new RegExp(`${api.name}\\.echo parameters: /text must be string, got 42`));
  assert.equal(executed, 1, 'the invalid call never reached the server');
});

test('values JSON cannot carry go out as strings and come back as Dates where the definition says so', async () => {
  const api = defineTimeApi();
  const server = newBus();
  const seen: unknown[] = [];
  await server.serve(api, {
    shift: ({ at, days }) => {
      seen.push(at);
      return new Date(at.getTime() + days * 86_400_000);
    },
    echo: ({ text }) => text,
  });
  const client = newBus();
  const result = await client.call(api.rpcs.shift, { at: new Date('2026-01-01T00:00:00Z'), days: 2 });
  assert.ok(seen[0] instanceof Date, 'the handler got a Date');
  assert.ok(result instanceof Date, 'the caller got a Date');
  assert.equal(result.toISOString(), '2026-01-03T00:00:00.000Z');
  // On the wire it is the ISO string, as a Python peer expects.
  const heard: unknown[] = [];
  await client.listen(api.events.ticked, { name: 'ticks' }, (e) => void heard.push(e.params.at)).ready;
  const { streamId } = await client.fire(api.events.ticked, { at: new Date('2026-05-01T10:00:00Z'), n: 1 });
  const entries = (await redis.xrange(`${api.name}.*:stream`, streamId, streamId)) as [string, string[]][];
  const fields = entries[0]![1];
  assert.equal(fields[fields.indexOf(':at') + 1], '"2026-05-01T10:00:00.000Z"');
  await waitFor(() => heard.length > 0, 'the event');
  assert.ok(heard[0] instanceof Date);
});

test('strict validation refuses calls to an API with no known schema; validation can be switched off per direction', async () => {
  const strict = newBus({ apis: { default: { strictValidation: true } } });
  const error = await strict.call(`${uniqueName('unknown')}.x`, {}).catch((e: unknown) => e);
  assert.ok(error instanceof UnknownApiError, String(error));
  assert.match(error.message, /strict validation is on/);

  const api = defineTimeApi();
  const server = newBus();
  await server.serve(api, { shift: ({ at }) => at, echo: ({ text }) => text });
  const loose = newBus({ apis: { [api.name]: { validate: { outgoing: false } } } });
  // Not checked at the caller: the server refuses it, and the caller gets the validation error back.
  const refused = await loose.call(api.rpcs.echo, { text: 7 as unknown as string }).catch((e: unknown) => e);
  assert.ok(refused instanceof ValidationError || refused instanceof RemoteError, String(refused));
  assert.match((refused as Error).message, /\/text must be string/);
});

test('a schema that changes on the bus is picked up without a restart', async () => {
  const name = uniqueName('evolve');
  apis.push(name);
  const v1 = defineApi(name, { rpcs: { greet: rpc({ name: Type.String() }, Type.String()) } });
  const v2 = defineApi(name, { rpcs: { greet: rpc({ name: Type.String(), polite: Type.Boolean() }, Type.String()) } });
  const first = newBus({ schema: { ttlMs: 400 } });
  await first.serve(v1, { greet: ({ name }) => `hi ${name}` });
  const client = newBus({ schema: { ttlMs: 400 } });
  assert.equal(await client.call(`${name}.greet`, { name: 'a' }), 'hi a');
  await first.close();
  const second = newBus({ schema: { ttlMs: 400 } });
  await second.serve(v2, { greet: ({ name, polite }) => `${polite ? 'good day' : 'hi'} ${name}` });
  // v1 refuses `polite` at the caller; once the caller has v2, the call goes through.
  const answer = await waitFor(
    async () => client.call(`${name}.greet`, { name: 'b', polite: true }).catch(() => undefined),
    'the caller to validate against v2',
    5000,
    100,
  );
  assert.equal(answer, 'good day b');
  await assert.rejects(client.call(`${name}.greet`, { name: 'a' }), ValidationError);
});

test('an event that fails validation at the listener follows the listener onError policy', async () => {
  const api = defineTimeApi();
  const listener = newBus();
  const handled: number[] = [];
  await listener.listen(api.events.ticked, { name: 'strict_ticks', onError: 'acknowledge-and-log' }, (e) => void handled.push(e.params.n)).ready;
  // A firer that does not validate (as a careless peer might) sends a bad event, then a good one.
  const careless = newBus({ apis: { [api.name]: { validate: { outgoing: false } } } });
  await careless.fire(`${api.name}.ticked`, { at: 'not a date', n: 'one' });
  await careless.fire(api.events.ticked, { at: new Date(), n: 2 });
  await waitFor(() => handled.length >= 1, 'the good event');
  assert.deepEqual(handled, [2], 'the invalid event never reached the handler');
});
