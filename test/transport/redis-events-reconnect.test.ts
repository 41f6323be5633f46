/**
 * Losing Redis: a private redis-server (no persistence) is killed with SIGKILL while a
 * consumer waits, then started again on the same port. The consumer must survive, recreate
 * its group on the now empty server, and deliver what is fired afterwards. A dropped command
 * connection alone makes it run again what is pending under its name. The last test leaves the
 * server down.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { capturingLogger, eventually, newEvent, take, within } from '../helpers/events.js';
import type { EventsConfig } from './event-conformance.js';

let server: RedisServer;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  server = await startRedisServer();
  process.on('unhandledRejection', onUnhandled);
});
after(async () => {
  process.removeListener('unhandledRejection', onUnhandled);
  await server?.stop();
});

const events: EventsConfig = {
  batchSize: 10,
  acknowledgementTimeoutMs: 2_000,
  maxStreamLength: 1000,
  streamUse: 'per_api',
  deadLetterStream: 'lightbus:dead_letter:stream',
};

test('a consumer survives a Redis crash and restart and delivers events fired afterwards', async (t) => {
  const { logger, records } = capturingLogger();
  const bus = new RedisEventTransport({ redis: { url: server.url }, events, logger });
  t.after(() => bus.close());
  const consumer = bus.consume({ group: 'svc-listener', consumer: 'p1', events: [{ api: 'auth', event: 'registered' }] });
  await within(consumer.ready, 10_000, 'ready');
  await bus.send(newEvent('auth', 'registered', { n: 1 }));
  await consumer.ack(await take(consumer, 1));

  const waiting = consumer.next(10); // blocked in XREADGROUP when Redis dies
  const firstPid = server.pid;
  await server.kill();
  await sleep(500); // let the connections notice and start reconnecting
  await server.start();
  assert.notEqual(server.pid, firstPid);

  await within(bus.send(newEvent('auth', 'registered', { n: 2 })), 15_000, 'send after restart');
  const delivered = await within(waiting, 20_000, 'delivery after restart');
  assert.deepEqual(delivered.map((d) => d.message.kwargs), [{ n: 2 }]);
  await consumer.ack(delivered);

  assert.ok(records.some((r) => r.level >= 40 && /redis connection (lost|error)/.test(r.msg)), 'the loss is logged');
  assert.ok(records.some((r) => r.level === 40 && r.msg.includes('recreating')), 'the group recreation is logged');
  assert.deepEqual(unhandled, []);
});

test('a consumer keeps retrying while Redis is down and resumes when it is back', async (t) => {
  const { logger } = capturingLogger();
  const bus = new RedisEventTransport({ redis: { url: server.url }, events, logger });
  t.after(() => bus.close());
  const consumer = bus.consume({ group: 'svc-other', consumer: 'p1', events: [{ api: 'billing', event: 'paid' }] });
  await within(consumer.ready, 10_000, 'ready');

  await server.kill();
  const waiting = consumer.next(10);
  await sleep(1500); // several retry rounds while nothing answers
  await server.start();
  await within(bus.send(newEvent('billing', 'paid', { n: 1 })), 15_000, 'send after restart');
  const delivered = await within(waiting, 20_000, 'delivery after restart');
  assert.deepEqual(delivered.map((d) => d.message.kwargs), [{ n: 1 }]);
  await consumer.close();
  assert.deepEqual(await consumer.next(1), []);
  assert.deepEqual(unhandled, []);
});

test('after its command connection reconnects, a consumer runs again what is pending under its name (an ack lost in a failover)', async (t) => {
  const { logger, records } = capturingLogger();
  // Far beyond the test's wait: only the own-pending pass can deliver the entry in time.
  const bus = new RedisEventTransport({ redis: { url: server.url }, events: { ...events, acknowledgementTimeoutMs: 120_000 }, logger });
  t.after(() => bus.close());
  const consumer = bus.consume({ group: 'svc-lostack', consumer: 'p1', events: [{ api: 'orders', event: 'placed' }] });
  await within(consumer.ready, 10_000, 'ready');
  await bus.send(newEvent('orders', 'placed', { n: 1 }));
  await consumer.ack(await take(consumer, 1));

  // What a failover leaves: an entry pending under p1 on the new master whose ack the old
  // master confirmed. Another client reads it as p1 while the consumer is not reading.
  const side = new Redis(server.port, '127.0.0.1');
  t.after(() => side.disconnect());
  const stream = 'orders.*:stream';
  await bus.send(newEvent('orders', 'placed', { n: 2 }));
  const read = (await side.xreadgroup('GROUP', 'svc-lostack', 'p1', 'COUNT', 10, 'STREAMS', stream, '>')) as Array<[string, unknown[]]>;
  assert.equal(read[0]![1].length, 1);

  // Only the transport's command connection drops; the consumer's blocking one stays.
  const clients = String(await side.client('LIST')).split('\n');
  const commands = clients.find((line) => / name=lightbus:events /.test(line));
  assert.ok(commands, clients.join('\n'));
  await side.client('KILL', 'ID', /id=(\d+)/.exec(commands)![1]!);
  await eventually(() => records.some((r) => r.msg === 'redis connection restored' && r.role === 'events'), 10_000, 'the command connection to reconnect');

  const delivered = await take(consumer, 1, 10_000);
  assert.deepEqual(delivered.map((d) => [d.message.kwargs, d.deliveries]), [[{ n: 2 }, 2]]);
  await consumer.ack(delivered);
  assert.deepEqual(await side.xpending(stream, 'svc-lostack'), [0, null, null, null]);
});

test('closing while Redis is down ends a waiting next with [] and finishes', async () => {
  const { logger } = capturingLogger();
  const bus = new RedisEventTransport({ redis: { url: server.url }, events, logger });
  const consumer = bus.consume({ group: 'svc-closing', consumer: 'p1', events: [{ api: 'auth', event: 'registered' }] });
  await within(consumer.ready, 10_000, 'ready');
  await server.kill();
  const waiting = consumer.next(10);
  await sleep(300);
  const closed = bus.close();
  assert.deepEqual(await within(waiting, 5_000, 'next after close'), []);
  await within(closed, 20_000, 'close with Redis down');
  assert.deepEqual(unhandled, []);
});
