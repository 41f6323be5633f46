/**
 * Acknowledgements queued ahead of the next read (`ackBeforeNextRead`): they travel on the
 * consumer's blocking connection in front of its next XREADGROUP, so Redis applies them before
 * that read (what keeps a listener within batchSize x concurrency pending entries), and they
 * still reach Redis when no read follows or the consumer closes. Real Redis on 6379; every key
 * starts with this file's random prefix and is deleted afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import type { EventConsumer } from '../../src/transport/types.js';
import { streamKey } from '../../src/transport/wire/events.js';
import { newEvent, take, within } from '../helpers/events.js';
import { testEventsConfig } from './event-conformance.js';

const REDIS = { url: 'redis://127.0.0.1:6379/0' };
const api = `t_${randomUUID().slice(0, 8)}`;
const stream = streamKey(api, 'tick', 'per_api');
const events = testEventsConfig(api, { maxStreamLength: null });
const raw = new Redis(REDIS.url);

after(async () => {
  const keys = await raw.keys(`${api}*`);
  if (keys.length > 0) await raw.del(...keys);
  await raw.quit();
});

async function pendingIds(group: string): Promise<string[]> {
  const rows = (await raw.xpending(stream, group, '-', '+', 1000)) as Array<[string, string, number, number]>;
  return rows.map(([streamId]) => streamId);
}

function ackBeforeNextRead(consumer: EventConsumer): NonNullable<EventConsumer['ackBeforeNextRead']> {
  assert.ok(consumer.ackBeforeNextRead, 'the Redis consumer acknowledges ahead of its next read');
  return consumer.ackBeforeNextRead.bind(consumer);
}

describe('redis event consumer: acknowledgements ahead of the next read', () => {
  test('the XACK leaves on the read connection right in front of the next XREADGROUP', async (t) => {
    const group = `${api}-order`;
    const bus = new RedisEventTransport({ redis: REDIS, events, logger: silentLogger() });
    t.after(() => bus.close());
    const consumer = bus.consume({ group, consumer: 'p1', events: [{ api, event: 'tick' }] });
    await consumer.ready;
    await Promise.all([0, 1, 2].map((n) => bus.send(newEvent(api, 'tick', { n }))));
    const first = await take(consumer, 3);

    // MONITOR sees every client of the shared server: only this test's group is looked at.
    // A plain socket: ioredis's monitor mode trips over the volume of a busy shared server.
    const seen: Array<{ command: string; source: string }> = [];
    const monitor = connect(6379, '127.0.0.1');
    t.after(() => monitor.destroy());
    let buffered = '';
    let monitoring = false;
    monitor.setEncoding('utf8');
    monitor.on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\r\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === '+OK') monitoring = true;
        const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
        if (match && line.includes(`"${group}"`)) seen.push({ command: match[2]!.toLowerCase(), source: match[1]! });
      }
    });
    monitor.write('MONITOR\r\n');
    const monitorDeadline = Date.now() + 5000;
    while (!monitoring && Date.now() < monitorDeadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(monitoring, 'MONITOR started');

    await ackBeforeNextRead(consumer)(first);
    // Read at once, as a listener does when the ack frees its slot; the event comes after.
    const reading = within(take(consumer, 1), 5000, 'the event after the ack');
    await bus.send(newEvent(api, 'tick', { n: 3 }));
    const second = await reading;
    assert.deepEqual(second.map((e) => e.message.kwargs), [{ n: 3 }]);
    assert.deepEqual(await pendingIds(group), second.map((e) => e.streamId));

    const deadline = Date.now() + 5000;
    while (!seen.some((s) => s.command === 'xreadgroup') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const ackAt = seen.findIndex((s) => s.command === 'xack');
    assert.ok(ackAt >= 0, `an XACK was seen: ${JSON.stringify(seen)}`);
    const read = seen[ackAt + 1];
    assert.equal(read?.command, 'xreadgroup', `the command after the XACK: ${JSON.stringify(seen)}`);
    assert.equal(read.source, seen[ackAt]!.source, 'the XACK and the read came from the same connection');
    await ackBeforeNextRead(consumer)(second);
  });

  test('a queued ack with no read after it still reaches Redis', async (t) => {
    const group = `${api}-alone`;
    const bus = new RedisEventTransport({ redis: REDIS, events, logger: silentLogger() });
    t.after(() => bus.close());
    const consumer = bus.consume({ group, consumer: 'p1', events: [{ api, event: 'tick' }] });
    await consumer.ready;
    await Promise.all([0, 1].map((n) => bus.send(newEvent(api, 'tick', { n }))));
    const delivered = await take(consumer, 2);
    assert.equal((await pendingIds(group)).length, 2);
    await ackBeforeNextRead(consumer)(delivered);
    const deadline = Date.now() + 5000;
    while ((await pendingIds(group)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await pendingIds(group), []);
  });

  test('closing right after queuing an ack sends it first', async () => {
    const group = `${api}-close`;
    const bus = new RedisEventTransport({ redis: REDIS, events, logger: silentLogger() });
    const consumer = bus.consume({ group, consumer: 'p1', events: [{ api, event: 'tick' }] });
    await consumer.ready;
    await Promise.all([0, 1].map((n) => bus.send(newEvent(api, 'tick', { n }))));
    const delivered = await take(consumer, 2);
    await ackBeforeNextRead(consumer)(delivered);
    await bus.close();
    assert.deepEqual(await pendingIds(group), []);
  });
});
