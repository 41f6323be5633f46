/**
 * The memory event transport: the shared behaviour suite over one `MemoryStore` per test
 * (transports sharing it stand for processes sharing a Redis), then store sharing itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryEventTransport } from '../../src/transport/memory/event-transport.js';
import { MemoryStore } from '../../src/transport/memory/store.js';
import type { EventTransport } from '../../src/transport/types.js';
import { newEvent, take, within } from '../helpers/events.js';
import { eventConformance, type EventHarness, type EventsConfig } from './event-conformance.js';

eventConformance('memory', async (): Promise<EventHarness> => {
  const store = new MemoryStore();
  const transports: EventTransport[] = [];
  return {
    transport(events: EventsConfig, logger = silentLogger()) {
      const transport = new MemoryEventTransport({ events, logger, store });
      transports.push(transport);
      return transport;
    },
    async appendRaw(stream, fields) {
      return store.xadd(stream, fields);
    },
    async readStream(stream) {
      return store.xrange(stream);
    },
    async pending(stream, group) {
      return store.xpending(stream, group, { count: 1000 }).map(({ streamId, consumer, deliveries }) => ({ streamId, consumer, deliveries }));
    },
    async deleteStream(stream) {
      store.del(stream);
    },
    async close() {
      await Promise.all(transports.map((transport) => transport.close()));
    },
  };
});

describe('memory event transport: stores', () => {
  const events: EventsConfig = {
    batchSize: 10,
    acknowledgementTimeoutMs: 60_000,
    maxStreamLength: 5,
    streamUse: 'per_api',
    deadLetterStream: 'dead:stream',
  };

  test('transports sharing a store see each other’s events; a private store sees only its own', async (t) => {
    const shared = new MemoryStore();
    const sender = new MemoryEventTransport({ events, logger: silentLogger(), store: shared });
    const receiver = new MemoryEventTransport({ events, logger: silentLogger(), store: shared });
    const loner = new MemoryEventTransport({ events, logger: silentLogger() });
    t.after(() => Promise.all([sender.close(), receiver.close(), loner.close()]));
    const spec = { group: 'svc-listener', consumer: 'p1', events: [{ api: 'auth', event: 'registered' }] };
    const consumer = receiver.consume(spec);
    const lonely = loner.consume(spec);
    await Promise.all([consumer.ready, lonely.ready]);
    const fired = newEvent('auth', 'registered', { at: new Date('2024-01-02T03:04:05.000Z') });
    await sender.send(fired);
    const [delivered] = await take(consumer, 1);
    // Values travel encoded, as over Redis: the date arrives as its ISO text.
    assert.deepEqual(delivered!.message.kwargs, { at: '2024-01-02T03:04:05.000Z' });
    assert.equal(shared.xrange('auth.*:stream').length, 2, 'the noop that created the stream, then the event');
    assert.equal(loner.store.xrange('auth.*:stream').length, 1, 'only the noop of its own group');
    await lonely.close();
    assert.deepEqual(await within(lonely.next(1), 1000, 'next after close'), []);
  });

  test('maxStreamLength trims the stream', async (t) => {
    const bus = new MemoryEventTransport({ events, logger: silentLogger() });
    t.after(() => bus.close());
    for (let n = 0; n < 20; n++) await bus.send(newEvent('auth', 'registered', { n }));
    const kept = bus.store.xrange('auth.*:stream');
    assert.equal(kept.length, 5);
    assert.ok(kept.every((entry) => entry.fields.includes(':n')));
  });
});
