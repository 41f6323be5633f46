/**
 * The Redis event transport against the real Redis on 6379: the shared behaviour suite, the
 * hot send path, and a clean close. Keys are prefixed per test and deleted afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import type { EventTransport } from '../../src/transport/types.js';
import { streamKey } from '../../src/transport/wire/events.js';
import { newEvent, take } from '../helpers/events.js';
import { eventConformance, type EventHarness, type EventsConfig, testEventsConfig } from './event-conformance.js';

const REDIS = { url: 'redis://127.0.0.1:6379/0' };
const raw = new Redis(REDIS.url);
after(() => raw.quit());

/** Deletes every key starting with `prefix` (never anything else: the server is shared). */
async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const escaped = prefix.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${escaped}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

eventConformance('redis', async (api): Promise<EventHarness> => {
  const transports: EventTransport[] = [];
  return {
    transport(events: EventsConfig, logger = silentLogger()) {
      const transport = new RedisEventTransport({ redis: REDIS, events, logger });
      transports.push(transport);
      return transport;
    },
    async appendRaw(stream, fields) {
      return (await raw.xadd(stream, '*', ...fields)) as string;
    },
    async readStream(stream) {
      return (await raw.xrange(stream, '-', '+')).map(([streamId, fields]) => ({ streamId, fields }));
    },
    async pending(stream, group) {
      const rows = (await raw.xpending(stream, group, '-', '+', 1000)) as Array<[string, string, number, number]>;
      return rows.map(([streamId, consumer, , deliveries]) => ({ streamId, consumer, deliveries }));
    },
    async deleteStream(stream) {
      await raw.del(stream);
    },
    async close() {
      await Promise.all(transports.map((transport) => transport.close()));
      await deleteKeys(raw, api);
    },
  };
});

describe('redis event transport: hot path and resources', () => {
  const api = `t_${randomUUID().slice(0, 8)}`;
  const events = testEventsConfig(api, { maxStreamLength: null });
  before(() => deleteKeys(raw, api));
  after(() => deleteKeys(raw, api));

  test('20,000 events fired concurrently all land in the stream', async (t) => {
    const bus = new RedisEventTransport({ redis: REDIS, events, logger: silentLogger() });
    t.after(() => bus.close());
    const count = 20_000;
    const started = process.hrtime.bigint();
    const results = await Promise.all(Array.from({ length: count }, (_, n) => bus.send(newEvent(api, 'burst', { n }))));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    t.diagnostic(`${count} concurrent sends in ${seconds.toFixed(3)} s (${Math.round(count / seconds)}/s)`);
    assert.equal(new Set(results.map((r) => r.streamId)).size, count);
    assert.equal(await raw.xlen(streamKey(api, 'burst', 'per_api')), count);
  });

  test('closing leaves no open sockets or timers behind', async (t) => {
    const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    // Connections of earlier tests close asynchronously after QUIT: start from a settled count.
    let socketsBefore = sockets();
    for (let i = 0; i < 100; i++) {
      await sleep(20);
      if (sockets() === socketsBefore) break;
      socketsBefore = sockets();
    }
    const timersBefore = timers();
    const bus = new RedisEventTransport({ redis: REDIS, events: { ...events, acknowledgementTimeoutMs: 300 }, logger: silentLogger() });
    t.after(() => bus.close()); // also when an assertion fails first
    const consumer = bus.consume({ group: `${api}-close`, consumer: 'p1', events: [{ api, event: 'closing' }] });
    await consumer.ready;
    await bus.send(newEvent(api, 'closing'));
    const delivered = await take(consumer, 1);
    const waiting = consumer.next(10);
    assert.ok(sockets() >= socketsBefore + 2, 'a command and a blocking connection were open');
    await consumer.ack(delivered);
    await bus.close();
    assert.deepEqual(await waiting, []);
    const deadline = Date.now() + 5000;
    while ((sockets() > socketsBefore || timers() > timersBefore) && Date.now() < deadline) await sleep(20);
    assert.equal(sockets(), socketsBefore, 'open sockets after close');
    assert.ok(timers() <= timersBefore, 'timers left after close');
  });
});
