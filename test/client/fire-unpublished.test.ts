/**
 * Firing an event of an API whose schema nobody published on the bus: a typo or a service not
 * running yet. The event is written all the same (warned once per API), or refused under the
 * API's strictValidation. The local definition makes the parameters valid; only the bus is
 * missing it. Real Redis on 6379, unique names.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, rpc, Type, UnknownApiError, type Bus } from '../../src/index.js';
import { streamKey } from '../../src/transport/wire/events.js';
import { capturingLogger } from '../helpers/events.js';
import { uniqueName } from '../helpers/wait.js';

const REDIS_URL = 'redis://127.0.0.1:6379/0';
const raw = new Redis(REDIS_URL);
const buses: Bus[] = [];
const keys: string[] = [];

function unpublishedApi() {
  const name = uniqueName('nobodyserves');
  keys.push(streamKey(name, 'happened', 'per_api'));
  return defineApi(name, { events: { happened: event({ n: Type.Number() }) } });
}

after(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  if (keys.length > 0) await raw.del(...keys);
  raw.disconnect();
});

test('a fire to an API with no schema on the bus warns once per API, and the event is still written', async () => {
  const { logger, records } = capturingLogger();
  const bus = createBus({ config: { serviceName: uniqueName('firer'), redis: { url: REDIS_URL } }, logger });
  buses.push(bus);
  const [first, second] = [unpublishedApi(), unpublishedApi()];
  for (let n = 0; n < 3; n++) await bus.fire(first.events.happened, { n });
  await bus.fire(second.events.happened, { n: 0 });
  const warnings = records.filter((r) => r.level === 40 && /no schema .* on the bus/.test(String(r.msg)));
  assert.deepEqual(warnings.map((r) => r['api']), [first.name, second.name], JSON.stringify(records));
  assert.match(String(warnings[0]!.msg), new RegExp(`^firing ${first.name}\\.happened: no schema for API "${first.name}" is on the bus`));
  assert.equal(await raw.xlen(streamKey(first.name, 'happened', 'per_api')), 3);
});

test('under strictValidation the fire fails with UnknownApiError and writes nothing', async () => {
  const api = unpublishedApi();
  const bus = createBus({
    config: { serviceName: uniqueName('strict'), logLevel: 'silent', redis: { url: REDIS_URL }, apis: { [api.name]: { strictValidation: true } } },
  });
  buses.push(bus);
  await assert.rejects(bus.fire(api.events.happened, { n: 1 }), (error: unknown) => {
    assert.ok(error instanceof UnknownApiError, String(error));
    assert.equal(error.api, api.name);
    assert.match(error.message, new RegExp(`no schema for API "${api.name}" is on the bus and strict validation is on: start a process that serves it, or turn off apis\\.${api.name}\\.strictValidation`));
    return true;
  });
  assert.equal(await raw.exists(streamKey(api.name, 'happened', 'per_api')), 0, 'no stream was created');
});

test('a fire to a served API neither warns nor fails, strict or not', async () => {
  const name = uniqueName('served');
  keys.push(streamKey(name, 'happened', 'per_api'), `schema:${name}`);
  const api = defineApi(name, { rpcs: { ping: rpc({}, Type.Null()) }, events: { happened: event({ n: Type.Number() }) } });
  const server = createBus({ config: { serviceName: uniqueName('server'), logLevel: 'silent', redis: { url: REDIS_URL } } });
  buses.push(server);
  await server.serve(api, { ping: () => null });
  const { logger, records } = capturingLogger();
  const bus = createBus({ config: { serviceName: uniqueName('firer'), redis: { url: REDIS_URL }, apis: { [name]: { strictValidation: true } } }, logger });
  buses.push(bus);
  await bus.fire(api.events.happened, { n: 1 });
  await server.fire(api.events.happened, { n: 2 });
  assert.deepEqual(records.filter((r) => r.level >= 40), []);
  await raw.srem('schemas', name);
});
