/**
 * The behaviour every event transport must show, registered once per transport (Redis and
 * memory) by their test files. Raw-key checks that only make sense for Redis live in
 * `wire-events.test.ts`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../src/config/schema.js';
import type { EventTransport } from '../../src/transport/types.js';
import { encodeEvent } from '../../src/transport/wire/events.js';
import { PYTHON_KEYS, type KeyLayout } from '../../src/transport/wire/key-layout.js';
import { capturingLogger, eventually, newEvent, settled, take, uuid1Like, within, type LogRecord } from '../helpers/events.js';

export type EventsConfig = ResolvedConfig['events'];

/** The events settings the transport tests use: batches of 10, a dead-letter stream of the test's API. */
export function testEventsConfig(api: string, overrides: Partial<EventsConfig> = {}): EventsConfig {
  return {
    batchSize: 10,
    acknowledgementTimeoutMs: 60_000,
    maxStreamLength: 100_000,
    streamUse: 'per_api',
    deadLetterStream: `${api}:dead_letter:stream`,
    ...overrides,
  };
}

/** The bus one test works on, seen by several "processes" (transports), with raw access. */
export interface EventHarness {
  /** The key names the transports use (`redis.keys`); Python's when absent. */
  keys?: KeyLayout;
  /** A transport as one more process on the same bus would have it; closed by {@link close}. */
  transport(events: EventsConfig, logger?: Logger): EventTransport;
  /** Appends an entry with exactly these fields (as a foreign writer would). */
  appendRaw(stream: string, fields: string[]): Promise<string>;
  readStream(stream: string): Promise<Array<{ streamId: string; fields: string[] }>>;
  pending(stream: string, group: string): Promise<Array<{ streamId: string; consumer: string; deliveries: number }>>;
  /** Deletes a stream with its groups, as a Redis restarted without persistence would. */
  deleteStream(stream: string): Promise<void>;
  /** Closes every transport made and deletes every key of the test's API. */
  close(): Promise<void>;
}

/** Makes the harness of one test; `api` is the test's own API name, the prefix of every key it creates. */
export type EventHarnessFactory = (api: string) => Promise<EventHarness>;

const WAIT_MS = 10_000;

interface Setup {
  harness: EventHarness;
  api: string;
  events: EventsConfig;
  stream: string;
  group: string;
  records: LogRecord[];
  logger: Logger;
  /** A new "process": a transport of its own on the shared bus. */
  transport(overrides?: Partial<EventsConfig>): EventTransport;
}

function keysOf(harness: EventHarness): KeyLayout {
  return harness.keys ?? PYTHON_KEYS;
}

/** Registers the shared suite for one transport. */
export function eventConformance(name: string, factory: EventHarnessFactory): void {
  async function setup(t: TestContext, overrides: Partial<EventsConfig> = {}): Promise<Setup> {
    const api = `t_${randomUUID().slice(0, 8)}`;
    const harness = await factory(api);
    t.after(() => harness.close());
    const { logger, records } = capturingLogger();
    const events = testEventsConfig(api, overrides);
    return {
      harness,
      api,
      events,
      stream: keysOf(harness).stream(api, 'any', events.streamUse),
      group: `${api}_svc-listener`,
      records,
      logger,
      transport: (more = {}) => harness.transport({ ...events, ...more }, logger),
    };
  }

  describe(`${name} event transport: shared behaviour`, () => {
    test('delivers an event fired after ready, with its metadata, parameters and a first delivery count', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      const fired = newEvent(s.api, 'registered', { username: 'adam', tags: ['a', 'b'], profile: { age: 3 } });
      const { streamId } = await bus.send(fired);
      const [delivered, ...rest] = await take(consumer, 1);
      assert.deepEqual(rest, []);
      assert.deepEqual(delivered, { message: fired, stream: s.stream, streamId, deliveries: 1 });
      await consumer.ack([delivered!]);
      assert.deepEqual(await s.harness.pending(s.stream, s.group), []);
    });

    test("with since '$' (the default) events fired before the group existed are not delivered", async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      await bus.send(newEvent(s.api, 'registered', { n: 1 }));
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      await bus.send(newEvent(s.api, 'registered', { n: 2 }));
      const delivered = await within(consumer.next(10), WAIT_MS, 'next');
      assert.deepEqual(delivered.map((d) => d.message.kwargs), [{ n: 2 }]);
    });

    test('per_api layout: events the consumer does not listen for are acknowledged and skipped', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'wanted' }] });
      await consumer.ready;
      await bus.send(newEvent(s.api, 'other'));
      const wanted = newEvent(s.api, 'wanted');
      await bus.send(wanted);
      const delivered = await take(consumer, 1);
      assert.deepEqual(delivered.map((d) => d.message), [wanted]);
      await consumer.ack(delivered);
      await eventually(async () => (await s.harness.pending(s.stream, s.group)).length === 0, WAIT_MS, 'skipped entry acknowledged');
    });

    test('per_event layout: one stream per event, several events and APIs in one consumer', async (t) => {
      const s = await setup(t, { streamUse: 'per_event' });
      const other = `${s.api}_b`;
      const bus = s.transport();
      const consumer = bus.consume({
        group: s.group,
        consumer: 'p1',
        events: [
          { api: s.api, event: 'first' },
          { api: other, event: 'second' },
        ],
      });
      await consumer.ready;
      const first = newEvent(s.api, 'first');
      const second = newEvent(other, 'second');
      await bus.send(first);
      await bus.send(second);
      const delivered = await take(consumer, 2);
      const byStream = new Map(delivered.map((d) => [d.stream, d.message]));
      assert.deepEqual(byStream.get(keysOf(s.harness).stream(s.api, 'first', 'per_event')), first);
      assert.deepEqual(byStream.get(keysOf(s.harness).stream(other, 'second', 'per_event')), second);
      await consumer.ack(delivered);
    });

    test('noop entries are skipped and acknowledged', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      await s.harness.appendRaw(s.stream, ['', '']);
      const good = newEvent(s.api, 'registered');
      await bus.send(good);
      const delivered = await take(consumer, 1);
      assert.deepEqual(delivered.map((d) => d.message), [good]);
      await consumer.ack(delivered);
      await eventually(async () => (await s.harness.pending(s.stream, s.group)).length === 0, WAIT_MS, 'noop acknowledged');
    });

    test('malformed entries go to the dead-letter stream, are acknowledged, and the entry behind them is delivered', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      const noApi = ['id', uuid1Like(), 'event_name', 'registered', 'version', '1'];
      const badJson = ['id', uuid1Like(), 'api_name', s.api, 'event_name', 'registered', 'version', '1', ':x', 'not json'];
      const noApiId = await s.harness.appendRaw(s.stream, noApi);
      const badJsonId = await s.harness.appendRaw(s.stream, badJson);
      const good = newEvent(s.api, 'registered', { ok: true });
      await bus.send(good);

      const delivered = await take(consumer, 1);
      assert.deepEqual(delivered.map((d) => d.message), [good]);
      await consumer.ack(delivered);

      let letters: Array<{ streamId: string; fields: string[] }> = [];
      await eventually(async () => (letters = await s.harness.readStream(s.events.deadLetterStream)).length === 2, WAIT_MS, 'two dead letters');
      const parsed = letters.map(({ fields }) => {
        assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ['stream', 'stream_id', 'group', 'reason', 'fields', 'time']);
        return Object.fromEntries(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]!]] : [])));
      });
      const byId = new Map(parsed.map((letter) => [letter['stream_id'], letter]));
      for (const [id, fields] of [[noApiId, noApi], [badJsonId, badJson]] as const) {
        const letter = byId.get(id);
        assert.ok(letter, `dead letter for ${id}`);
        assert.equal(letter['stream'], s.stream);
        assert.equal(letter['group'], s.group);
        assert.deepEqual(JSON.parse(letter['fields']!), fields);
        assert.ok(!Number.isNaN(Date.parse(letter['time']!)));
      }
      assert.match(byId.get(noApiId)!['reason']!, /api_name/);
      assert.match(byId.get(badJsonId)!['reason']!, /"x".*not valid JSON/);
      await eventually(async () => (await s.harness.pending(s.stream, s.group)).length === 0, WAIT_MS, 'malformed entries acknowledged');
      const warnings = s.records.filter((r) => r.level === 40 && r.msg.includes('dead-letter'));
      assert.deepEqual(new Set(warnings.map((w) => w['streamId'])), new Set([noApiId, badJsonId]));
      assert.ok(warnings.every((w) => w['stream'] === s.stream && typeof w['reason'] === 'string'));
    });

    test('an entry naming an API or event that does not belong on the stream is dead-lettered, not skipped', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      // No listener of this stream can ever want it: skipping it would lose it without a trace.
      const foreign = ['id', uuid1Like(), 'api_name', `${s.api}_other`, 'event_name', 'registered', 'version', '1'];
      const foreignId = await s.harness.appendRaw(s.stream, foreign);
      const good = newEvent(s.api, 'registered', { ok: true });
      await bus.send(good);
      const delivered = await take(consumer, 1);
      assert.deepEqual(delivered.map((d) => d.message), [good]);
      await consumer.ack(delivered);
      let letters: Array<{ streamId: string; fields: string[] }> = [];
      await eventually(async () => (letters = await s.harness.readStream(s.events.deadLetterStream)).length === 1, WAIT_MS, 'one dead letter');
      const letter = Object.fromEntries(letters[0]!.fields.flatMap((value, i, all) => (i % 2 === 0 ? [[value, all[i + 1]!]] : [])));
      assert.equal(letter['stream_id'], foreignId);
      assert.match(letter['reason']!, /_other\.registered/);
      await eventually(async () => (await s.harness.pending(s.stream, s.group)).length === 0, WAIT_MS, 'foreign entry acknowledged');
    });

    test('an event its listener dead-letters (after its retries) is logged: one warn line with stream, id, group and reason, no stack', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      const fired = newEvent(s.api, 'registered', { n: 1 });
      await bus.send(fired);
      const [delivered] = await take(consumer, 1);
      await consumer.deadLetter(delivered!, '3 attempts failed; last error: Error: boom');
      const lines = s.records.filter((r) => r.msg.includes('dead-letter'));
      assert.equal(lines.length, 1, `one log line, got ${JSON.stringify(lines)}`);
      const [line] = lines;
      assert.equal(line!.level, 40);
      assert.equal(line!['stream'], s.stream);
      assert.equal(line!['streamId'], delivered!.streamId);
      assert.equal(line!['eventId'], fired.id);
      assert.equal(line!['group'], s.group);
      assert.equal(line!['reason'], '3 attempts failed; last error: Error: boom');
      assert.ok(!JSON.stringify(line).includes('"stack"'));
    });

    test('entries written the way Python Lightbus writes them are decoded', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'user_registered' }] });
      await consumer.ready;
      const id = uuid1Like();
      await s.harness.appendRaw(s.stream, [
        'id', id,
        'api_name', s.api,
        'event_name', 'user_registered',
        'version', '1',
        ':username', '"adam"',
        ':tags', '["a", "b"]',
        ':profile', '{\n  "age": 3,\n  "name": "Ad\\u00e9"\n}',
        ':is_admin', 'false',
        ':score', 'null',
      ]);
      const [delivered] = await take(consumer, 1);
      assert.deepEqual(delivered!.message, {
        id,
        api: s.api,
        event: 'user_registered',
        version: 1,
        kwargs: { username: 'adam', tags: ['a', 'b'], profile: { age: 3, name: 'Adé' }, is_admin: false, score: null },
      });
    });

    test('a restarted consumer (same name) first gets its own pending entries', async (t) => {
      const s = await setup(t);
      const spec = { group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] };
      const first = s.transport();
      const before = first.consume(spec);
      await before.ready;
      await first.send(newEvent(s.api, 'registered', { n: 1 }));
      await first.send(newEvent(s.api, 'registered', { n: 2 }));
      const taken = await take(before, 2);
      await first.close(); // dies without acknowledging

      const second = s.transport();
      const after = second.consume(spec);
      await after.ready;
      const again = await take(after, 2);
      assert.deepEqual(again.map((d) => d.streamId), taken.map((d) => d.streamId));
      assert.deepEqual(again.map((d) => d.deliveries), [2, 2]);
      await after.ack(again);
      assert.deepEqual(await s.harness.pending(s.stream, s.group), []);
    });

    test('entries of a dead consumer are reclaimed by another after the acknowledgement timeout', async (t) => {
      const s = await setup(t, { acknowledgementTimeoutMs: 300 });
      const spec = { group: s.group, events: [{ api: s.api, event: 'registered' }] };
      const dying = s.transport();
      const dead = dying.consume({ ...spec, consumer: 'dead' });
      await dead.ready;
      const { streamId } = await dying.send(newEvent(s.api, 'registered'));
      await take(dead, 1);
      await dying.close();

      const survivor = s.transport().consume({ ...spec, consumer: 'alive' });
      const [reclaimed] = await take(survivor, 1);
      assert.equal(reclaimed!.streamId, streamId);
      assert.equal(reclaimed!.deliveries, 2);
      assert.deepEqual((await s.harness.pending(s.stream, s.group)).map((p) => p.consumer), ['alive']);
      await survivor.ack([reclaimed!]);
    });

    test('in-flight entries are neither claimed again by their consumer nor stolen by another while the handler runs', async (t) => {
      const s = await setup(t, { acknowledgementTimeoutMs: 300 });
      const spec = { group: s.group, events: [{ api: s.api, event: 'registered' }] };
      const busA = s.transport();
      const holder = busA.consume({ ...spec, consumer: 'holder' });
      await holder.ready;
      await busA.send(newEvent(s.api, 'registered'));
      const [held] = await take(holder, 1);

      const other = s.transport().consume({ ...spec, consumer: 'other' });
      await other.ready;
      const holderAgain = holder.next(10);
      const otherNext = other.next(10);
      await sleep(1500); // five acknowledgement timeouts
      assert.equal(await settled(holderAgain), false, 'the holder got its in-flight entry again');
      assert.equal(await settled(otherNext), false, 'another consumer took the in-flight entry');
      const pending = await s.harness.pending(s.stream, s.group);
      assert.deepEqual(pending.map((p) => [p.streamId, p.consumer, p.deliveries]), [[held!.streamId, 'holder', 1]]);

      await holder.ack([held!]);
      await Promise.all([holder.close(), other.close()]);
      assert.deepEqual(await within(holderAgain, WAIT_MS, 'holder next after close'), []);
      assert.deepEqual(await within(otherNext, WAIT_MS, 'other next after close'), []);
    });

    test('released entries are delivered again, also to a next() already waiting', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      await bus.send(newEvent(s.api, 'registered', { n: 1 }));
      await bus.send(newEvent(s.api, 'registered', { n: 2 }));
      const [kept, first] = await take(consumer, 2);
      consumer.release([first!]);
      // The own-pending pass that finds the released entry must skip the one still in flight.
      const again = await within(consumer.next(10), WAIT_MS, 'next after release');
      assert.deepEqual(again.map((d) => [d.streamId, d.deliveries]), [[first!.streamId, 2]]);
      const second = again[0];
      await consumer.ack([kept!]);

      const waiting = consumer.next(10);
      await sleep(100);
      consumer.release([second!]);
      const [third] = await within(waiting, WAIT_MS, 'waiting next after release');
      assert.equal(third!.streamId, first!.streamId);
      assert.equal(third!.deliveries, 3);
      await consumer.ack([third!]);
    });

    test('deadLetter copies the original entry with a reason and acknowledges it', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      const fired = newEvent(s.api, 'registered', { n: 1 });
      await bus.send(fired);
      const [delivered] = await take(consumer, 1);
      await consumer.deadLetter(delivered!, 'handler failed 3 times');
      const [letter] = await s.harness.readStream(s.events.deadLetterStream);
      const fields = Object.fromEntries(letter!.fields.flatMap((value, i, all) => (i % 2 === 0 ? [[value, all[i + 1]!]] : [])));
      assert.equal(fields['reason'], 'handler failed 3 times');
      assert.equal(fields['stream_id'], delivered!.streamId);
      assert.deepEqual(JSON.parse(fields['fields']!), encodeEvent(fired));
      assert.deepEqual(await s.harness.pending(s.stream, s.group), []);
    });

    test("since '0' replays what the stream holds", async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      await bus.send(newEvent(s.api, 'registered', { n: 1 }));
      await bus.send(newEvent(s.api, 'registered', { n: 2 }));
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }], since: '0' });
      const delivered = await take(consumer, 2);
      assert.deepEqual(delivered.map((d) => d.message.kwargs), [{ n: 1 }, { n: 2 }]);
    });

    test('since a stream id starts after that entry', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const { streamId } = await bus.send(newEvent(s.api, 'registered', { n: 1 }));
      await bus.send(newEvent(s.api, 'registered', { n: 2 }));
      await bus.send(newEvent(s.api, 'registered', { n: 3 }));
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }], since: streamId });
      await consumer.ready;
      const delivered = await within(consumer.next(10), WAIT_MS, 'next');
      assert.deepEqual(delivered.map((d) => d.message.kwargs), [{ n: 2 }, { n: 3 }]);
    });

    test('since a Date (or its ISO text) starts at that time; only the first creation of the group uses it', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      await bus.send(newEvent(s.api, 'registered', { n: 1 }));
      await sleep(20);
      const cut = new Date();
      await sleep(20);
      await bus.send(newEvent(s.api, 'registered', { n: 2 }));
      const spec = { consumer: 'p1', events: [{ api: s.api, event: 'registered' }] };
      const byDate = bus.consume({ ...spec, group: `${s.group}_date`, since: cut });
      const byIso = bus.consume({ ...spec, group: `${s.group}_iso`, since: cut.toISOString() });
      assert.deepEqual((await take(byDate, 1)).map((d) => d.message.kwargs), [{ n: 2 }]);
      assert.deepEqual((await take(byIso, 1)).map((d) => d.message.kwargs), [{ n: 2 }]);

      // The group exists now: a later consumer asking for everything does not rewind it.
      const later = bus.consume({ ...spec, group: `${s.group}_date`, consumer: 'p2', since: '0' });
      await later.ready;
      await bus.send(newEvent(s.api, 'registered', { n: 3 }));
      assert.deepEqual((await take(later, 1)).map((d) => d.message.kwargs), [{ n: 3 }]);
    });

    test('an invalid since is refused with a TypeError naming it', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      assert.throws(
        () => bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'e' }], since: 'yesterday' }),
        (error: unknown) => error instanceof TypeError && error.message.includes('"yesterday"'),
      );
    });

    test('close ends a waiting next with [] and later calls return [] at once', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      const waiting = consumer.next(10);
      await sleep(50);
      await within(consumer.close(), WAIT_MS, 'close');
      assert.deepEqual(await within(waiting, WAIT_MS, 'waiting next'), []);
      assert.deepEqual(await within(consumer.next(10), WAIT_MS, 'next after close'), []);
    });

    test('a group whose stream vanished is recreated and new events are delivered', async (t) => {
      const s = await setup(t);
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      await bus.send(newEvent(s.api, 'registered', { n: 1 }));
      await consumer.ack(await take(consumer, 1));
      await s.harness.deleteStream(s.stream);
      await bus.send(newEvent(s.api, 'registered', { n: 2 }));
      const delivered = await take(consumer, 1, 15_000);
      assert.deepEqual(delivered.map((d) => d.message.kwargs), [{ n: 2 }]);
      assert.ok(s.records.some((r) => r.level === 40 && r.msg.includes('recreating')), 'the recreation is logged');
    });

    test('next returns at most max events and acks from concurrent callers all land', async (t) => {
      const s = await setup(t, { batchSize: 50 });
      const bus = s.transport();
      const consumer = bus.consume({ group: s.group, consumer: 'p1', events: [{ api: s.api, event: 'registered' }] });
      await consumer.ready;
      await Promise.all(Array.from({ length: 30 }, (_, n) => bus.send(newEvent(s.api, 'registered', { n }))));
      const first = await within(consumer.next(7), WAIT_MS, 'next(7)');
      assert.equal(first.length, 7);
      const rest = await take(consumer, 23);
      const all = [...first, ...rest];
      assert.deepEqual(all.map((d) => d.message.kwargs['n']), Array.from({ length: 30 }, (_, n) => n));
      await Promise.all(all.map((d) => consumer.ack([d])));
      assert.deepEqual(await s.harness.pending(s.stream, s.group), []);
    });
  });
}
