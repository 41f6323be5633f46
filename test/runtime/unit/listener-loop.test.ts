/**
 * The listener loop over the memory transport, with handlers run inline: it acknowledges only
 * the events whose handler succeeded; with `shutdown` a failure stops the batch, asks for the
 * stop, and leaves the failed event and those after it pending.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { resolveConfig } from '../../../src/config/load.js';
import { defineApi, event, Type } from '../../../src/index.js';
import { InlineExecutor } from '../../../src/runtime/executor.js';
import { HandlerRunner } from '../../../src/runtime/handler-runner.js';
import { ListenerLoop } from '../../../src/runtime/listener-loop.js';
import type { ListenerDescriptor } from '../../../src/runtime/protocol.js';
import { Registry } from '../../../src/runtime/registry.js';
import { SchemaValidator } from '../../../src/core/validator.js';
import { MemoryEventTransport } from '../../../src/transport/memory/event-transport.js';
import { streamKey } from '../../../src/transport/wire/events.js';
import { waitFor } from '../../helpers/wait.js';

const api = defineApi('unit_loop', { events: { job: event({ id: Type.String() }) } });
const config = resolveConfig({ serviceName: 'unit_loop_svc', transport: 'memory', logLevel: 'silent' });
const logger = pino({ level: 'silent' });

test('only handled events are acknowledged; a shutdown failure stops the batch and asks for the stop', async () => {
  const descriptor: ListenerDescriptor = { name: 'jobs', events: [{ api: api.name, event: 'job' }], onError: 'shutdown', concurrency: 1 };
  const registry = new Registry();
  registry.know(api);
  const handled: string[] = [];
  registry.listeners.set('jobs', {
    descriptor,
    handler: (incoming) => {
      const id = (incoming.params as { id: string }).id;
      if (id === 'bad') throw new Error('bad job');
      handled.push(id);
    },
  });
  const transport = new MemoryEventTransport({ events: config.events, logger });
  const group = `${config.serviceName}-jobs`;
  const shutdowns: Error[] = [];
  let executionId = 0;
  const loop = new ListenerLoop({
    descriptor,
    consumer: transport.consume({ group, consumer: 'p1', events: descriptor.events }),
    executor: new InlineExecutor(new HandlerRunner(registry, new SchemaValidator(), config, logger)),
    batchSize: 10,
    logger,
    nextExecutionId: () => ++executionId,
    onShutdownRequested: (reason) => shutdowns.push(reason),
  });
  loop.start();
  await loop.ready;
  const sent: Record<string, string> = {};
  for (const id of ['a', 'b', 'bad', 'c']) {
    sent[id] = (await transport.send({ id: `m-${id}`, api: api.name, event: 'job', version: 1, kwargs: { id } })).streamId;
  }
  await waitFor(() => shutdowns.length > 0, 'the shutdown request');
  const stream = streamKey(api.name, 'job', config.events.streamUse);
  const pending = () => transport.store.xpending(stream, group, { count: 100 }).map((p) => p.streamId);
  await waitFor(() => pending().length === 2, 'a and b acknowledged');
  assert.deepEqual(handled, ['a', 'b']);
  assert.deepEqual(pending().sort(), [sent['bad'], sent['c']].sort(), 'the failed event and the one after it stay pending');
  assert.match(shutdowns[0]!.message, /bad job/);
  await loop.stop(1000);
  await transport.close();
});
