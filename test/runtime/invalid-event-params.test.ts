// An event whose parameters fail validation is not the handler's failure: one bounded line, no retry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineApi, event, Type } from '../../src/index.js';
import { HandlerRunner } from '../../src/runtime/handler-runner.js';
import { Registry } from '../../src/runtime/registry.js';
import { SchemaValidator } from '../../src/core/validator.js';
import { capturingLogger } from '../helpers/events.js';

test('parameters that fail validation: the handler never runs, no retries, one warn line without a stack', async () => {
  const api = defineApi('invalid_params', { events: { job: event({ key: Type.String() }) } });
  const registry = new Registry();
  registry.knowEvent(api.events.job);
  let ran = 0;
  registry.addListener({
    descriptor: { name: 'jobs', events: [{ api: api.name, event: 'job' }], onError: { retry: { maxAttempts: 3, backoffMs: 1 } }, concurrency: 1 },
    handler: () => {
      ran++;
    },
  });
  const { logger, records } = capturingLogger();
  const runner = new HandlerRunner(registry, new SchemaValidator(), { apis: {} } as never, logger);
  const outcomes = await runner.runEvents('jobs', [{ id: 'e1', api: api.name, event: 'job', version: 1, kwargs: { key: 12345 }, streamId: '1-0' }], 1);

  assert.equal(ran, 0);
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0]!.ok, false);
  assert.equal(records.length, 1, JSON.stringify(records));
  assert.equal(records[0]!.level, 40);
  assert.equal(records[0]!['eventId'], 'e1');
  assert.ok(!JSON.stringify(records[0]).includes('"stack"'), 'no stack trace');
  assert.ok(JSON.stringify(records[0]).length < 2000, 'a bounded line');
});
