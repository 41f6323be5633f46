// The handler runner never throws: a handler's error, a bad parameter, an unknown API all come back as data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { defineApi, event, rpc, Type } from '../../../src/index.js';
import { HandlerRunner } from '../../../src/runtime/handler-runner.js';
import { Registry } from '../../../src/runtime/registry.js';
import { SchemaValidator } from '../../../src/core/validator.js';

const api = defineApi('unit_runner', {
  rpcs: { half: rpc({ n: Type.Integer() }, Type.Integer()) },
  events: { job: event({ id: Type.String() }) },
});

class OddNumber extends Error {
  override name = 'OddNumber';
}

const registry = new Registry();
registry.know(api);
registry.served.set(api.name, {
  api,
  implementation: {
    half: ({ n }) => {
      if ((n as number) % 2 !== 0) throw new OddNumber(`${n} is odd`);
      return (n as number) / 2;
    },
  },
});
const handled: string[] = [];
registry.listeners.set('jobs', {
  descriptor: { name: 'jobs', events: [{ api: api.name, event: 'job' }], onError: 'acknowledge-and-log', concurrency: 1 },
  handler: (incoming) => {
    const id = (incoming.params as { id: string }).id;
    if (id === 'bad') throw new Error('bad job');
    handled.push(id);
  },
});
const runner = new HandlerRunner(registry, new SchemaValidator(), { apis: {} } as never, pino({ level: 'silent' }));
const call = (procedure: string, kwargs: Record<string, unknown>, apiName = api.name) => ({ id: 'c1', api: apiName, procedure, kwargs, returnPath: 'redis+key://x:result:1' });

test('a value comes back as ok; a thrown error as data with its name and message', async () => {
  assert.deepEqual(await runner.runRpc(call('half', { n: 4 }), 1), { ok: true, value: 2 });
  const failed = await runner.runRpc(call('half', { n: 3 }), 2);
  assert.equal(failed.ok, false);
  assert.equal(!failed.ok && failed.error.name, 'OddNumber');
  assert.equal(!failed.ok && failed.error.message, '3 is odd');
});

test('invalid parameters and an API not served here are errors as data, not throws', async () => {
  const invalid = await runner.runRpc(call('half', { n: 'four' }), 3);
  assert.equal(!invalid.ok && invalid.error.name, 'ValidationError');
  const unknown = await runner.runRpc(call('half', { n: 2 }, 'not_here'), 4);
  assert.equal(!unknown.ok && unknown.error.name, 'UnknownApiError');
});

test('an event batch answers one outcome per event, in order, the failure among them', async () => {
  const events = ['a', 'bad', 'c'].map((id, n) => ({ id: `e${n}`, api: api.name, event: 'job', version: 1, kwargs: { id }, streamId: `1-${n}` }));
  const outcomes = await runner.runEvents('jobs', events, 5);
  assert.deepEqual(outcomes.map((o) => o.ok), [true, false, true]);
  assert.equal(!outcomes[1]!.ok && outcomes[1]!.error.message, 'bad job');
  assert.deepEqual(handled, ['a', 'c']);
});

test('event hooks run around each handling, the failure given to afterEventExecution', async () => {
  const hooked = new Registry();
  hooked.know(api);
  hooked.listeners.set('jobs', registry.listeners.get('jobs')!);
  const seen: string[] = [];
  hooked.hooks.push({
    beforeEventExecution: ({ listener, event }) => void seen.push(`before ${listener} ${(event.params as { id: string }).id}`),
    afterEventExecution: ({ event, error }) => void seen.push(`after ${(event.params as { id: string }).id}${error ? `: ${error.message}` : ''}`),
  });
  const hookedRunner = new HandlerRunner(hooked, new SchemaValidator(), { apis: {} } as never, pino({ level: 'silent' }));
  const events = ['h1', 'bad'].map((id, n) => ({ id: `h${n}`, api: api.name, event: 'job', version: 1, kwargs: { id }, streamId: `2-${n}` }));
  const outcomes = await hookedRunner.runEvents('jobs', events, 6);
  assert.deepEqual(outcomes.map((o) => o.ok), [true, false]);
  assert.deepEqual(seen, ['before jobs h1', 'after h1', 'before jobs bad', 'after bad: bad job']);
});
