/**
 * The event wire codec on its own, then what the Redis event transport actually writes,
 * read back key by key with a plain ioredis client and compared with the wire contract.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisEventTransport } from '../../src/transport/redis/event-transport.js';
import {
  classifyEntry,
  decodeEvent,
  encodeDeadLetter,
  encodeEvent,
  isNoop,
  sinceToStreamId,
  streamKey,
} from '../../src/transport/wire/events.js';
import { toJsonValue } from '../../src/transport/wire/json-values.js';
import { newEvent, take } from '../helpers/events.js';
import { type EventsConfig, testEventsConfig } from './event-conformance.js';

describe('toJsonValue', () => {
  test('converts what JSON cannot carry', () => {
    const value = {
      when: new Date('2024-01-02T03:04:05.678Z'),
      small: 42n,
      huge: 2n ** 64n,
      bytes: Buffer.from('hello'),
      view: new Uint8Array([1, 2, 3]),
      set: new Set([1, 'a']),
      map: new Map<unknown, unknown>([['k', new Date(0)], [7, 8n]]),
      nested: [{ gone: undefined, fn: () => 1, kept: null }, undefined],
      custom: { toJSON: () => ({ as: 'json' }) },
    };
    assert.deepEqual(toJsonValue(value), {
      when: '2024-01-02T03:04:05.678Z',
      small: 42,
      huge: '18446744073709551616',
      bytes: 'aGVsbG8=',
      view: 'AQID',
      set: [1, 'a'],
      map: { k: '1970-01-01T00:00:00.000Z', '7': 8 },
      nested: [{ kept: null }, null],
      custom: { as: 'json' },
    });
  });

  test('leaves plain JSON alone, keeps a __proto__ key as data, and refuses cycles', () => {
    assert.deepEqual(toJsonValue({ a: [1, 'x', true, null], b: { c: 1.5 } }), { a: [1, 'x', true, null], b: { c: 1.5 } });
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const converted = toJsonValue(parsed) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(converted), Object.prototype);
    assert.deepEqual(Object.keys(converted), ['__proto__']);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => toJsonValue(cyclic), TypeError);
    const shared = { x: 1 };
    assert.deepEqual(toJsonValue([shared, shared]), [{ x: 1 }, { x: 1 }], 'a repeated value is not a cycle');
  });
});

describe('event codec', () => {
  test('stream names for both layouts', () => {
    assert.equal(streamKey('my_company.auth', 'user_registered', 'per_api'), 'my_company.auth.*:stream');
    assert.equal(streamKey('my_company.auth', 'user_registered', 'per_event'), 'my_company.auth.user_registered:stream');
  });

  test('encodes metadata then one JSON field per parameter, nothing else', () => {
    const fields = encodeEvent({
      id: 'abc',
      api: 'auth',
      event: 'user_registered',
      version: 2,
      kwargs: { username: 'adam', is_admin: false, tags: ['a', 'b'], at: new Date(0), skipped: undefined },
    });
    assert.deepEqual(fields, [
      'id', 'abc',
      'api_name', 'auth',
      'event_name', 'user_registered',
      'version', '2',
      ':username', '"adam"',
      ':is_admin', 'false',
      ':tags', '["a","b"]',
      ':at', '"1970-01-01T00:00:00.000Z"',
    ]);
  });

  test('decodes what it encodes, and Python-formatted JSON', () => {
    const message = newEvent('auth', 'user_registered', { username: 'adam', nested: { list: [1, null] } });
    assert.deepEqual(decodeEvent(encodeEvent(message)), message);
    assert.deepEqual(decodeEvent(['id', 'x', 'api_name', 'a', 'event_name', 'e', 'version', '1', ':tags', '["a", "b"]', ':m', '{"k": "\\u00e9"}']), {
      id: 'x',
      api: 'a',
      event: 'e',
      version: 1,
      kwargs: { tags: ['a', 'b'], m: { k: 'é' } },
    });
  });

  test('a missing version reads as 1; unknown metadata and empty field names are ignored', () => {
    const decoded = decodeEvent(['id', 'x', 'api_name', 'a', 'event_name', 'e', 'timestamp', '123', '', '', ':p', '1']);
    assert.deepEqual(decoded, { id: 'x', api: 'a', event: 'e', version: 1, kwargs: { p: 1 } });
  });

  test('malformed entries give a reason', () => {
    const base = ['id', 'x', 'api_name', 'a', 'event_name', 'e', 'version', '1'];
    const reasonOf = (fields: string[]) => {
      const decoded = decodeEvent(fields);
      assert.ok('malformed' in decoded, `expected malformed: ${JSON.stringify(fields)}`);
      return decoded.malformed;
    };
    assert.match(reasonOf(base.slice(2)), /"id"/);
    assert.match(reasonOf(['id', 'x', 'event_name', 'e']), /"api_name"/);
    assert.match(reasonOf(['id', 'x', 'api_name', 'a', 'event_name', '']), /"event_name"/);
    assert.match(reasonOf([...base.slice(0, 6), 'version', 'one']), /version "one"/);
    assert.match(reasonOf([...base.slice(0, 6), 'version', '-1']), /version/);
    assert.match(reasonOf([...base, ':x', 'not json']), /"x" is not valid JSON: "not json"/);
    assert.match(reasonOf(['id']), /odd number/);
  });

  test('noop entries and classification', () => {
    assert.equal(isNoop(['', '']), true);
    assert.equal(isNoop(['', '', 'id', 'x']), false);
    assert.equal(isNoop(['id', '']), false);
    const wants = (api: string, event: string) => api === 'a' && event === 'wanted';
    const fields = (event: string) => ['id', 'x', 'api_name', 'a', 'event_name', event, 'version', '1'];
    assert.equal(classifyEntry(['', ''], wants).kind, 'noop');
    assert.equal(classifyEntry(fields('wanted'), wants).kind, 'event');
    assert.equal(classifyEntry(fields('other'), wants).kind, 'unwanted');
    assert.equal(classifyEntry(['id', 'x'], wants).kind, 'malformed');
  });

  test('dead-letter fields', () => {
    assert.deepEqual(
      encodeDeadLetter({ stream: 's', streamId: '1-0', group: 'g', reason: 'bad', fields: ['id', 'x'], time: new Date(0) }),
      ['stream', 's', 'stream_id', '1-0', 'group', 'g', 'reason', 'bad', 'fields', '["id","x"]', 'time', '1970-01-01T00:00:00.000Z'],
    );
  });

  test('since values', () => {
    assert.equal(sinceToStreamId('$'), '$');
    assert.equal(sinceToStreamId('0'), '0');
    assert.equal(sinceToStreamId('1700000000000-5'), '1700000000000-5');
    assert.equal(sinceToStreamId('1700000000000'), '1700000000000');
    assert.equal(sinceToStreamId(new Date(1700000000123)), '1700000000123-0');
    assert.equal(sinceToStreamId('2023-11-14T22:13:20.123Z'), '1700000000123-0');
    for (const bad of ['yesterday', '', '-1', '12-ab', '2023-13-45T00:00:00Z'] as const) {
      assert.throws(() => sinceToStreamId(bad), (error: unknown) => error instanceof TypeError && error.message.includes(JSON.stringify(bad)));
    }
    assert.throws(() => sinceToStreamId(new Date(Number.NaN)), /Invalid Date/);
    assert.throws(() => sinceToStreamId(42 as unknown as string), /Invalid since value 42/);
  });
});

describe('what the Redis event transport writes', () => {
  const REDIS = { url: 'redis://127.0.0.1:6379/0' };
  const raw = new Redis(REDIS.url);
  const api = `t_${randomUUID().slice(0, 8)}`;
  const events = testEventsConfig(api);
  const created = new Set<string>();
  const bus = (overrides: Partial<EventsConfig> = {}) => new RedisEventTransport({ redis: REDIS, events: { ...events, ...overrides }, logger: silentLogger() });
  const streamOf = (name: string) => {
    created.add(name);
    return name;
  };
  after(async () => {
    if (created.size > 0) await raw.del(...created);
    await raw.quit();
  });

  test('one XADD per event on {api}.*:stream with exactly the contract fields', async (t) => {
    const transport = bus();
    t.after(() => transport.close());
    const stream = streamOf(`${api}.*:stream`);
    const message = { id: randomUUID(), api, event: 'user_registered', version: 1, kwargs: { username: 'adam', email: 'a@b.c', n: 3 } };
    const { streamId } = await transport.send(message);
    const entries = await raw.xrange(stream, '-', '+');
    assert.deepEqual(entries, [
      [
        streamId,
        ['id', message.id, 'api_name', api, 'event_name', 'user_registered', 'version', '1', ':username', '"adam"', ':email', '"a@b.c"', ':n', '3'],
      ],
    ]);
  });

  test('per_event layout writes {api}.{event}:stream', async (t) => {
    const transport = bus({ streamUse: 'per_event' });
    t.after(() => transport.close());
    const stream = streamOf(`${api}.signed_in:stream`);
    await transport.send(newEvent(api, 'signed_in'));
    assert.equal(await raw.xlen(stream), 1);
  });

  test('MAXLEN ~ trims a stream with a small maxStreamLength; null does not trim', async (t) => {
    const trimmed = bus({ maxStreamLength: 10 });
    const untrimmed = bus({ maxStreamLength: null, streamUse: 'per_event' });
    t.after(() => Promise.all([trimmed.close(), untrimmed.close()]));
    const trimmedStream = streamOf(`${api}_trim.*:stream`);
    const untrimmedStream = streamOf(`${api}_trim.kept:stream`);
    await Promise.all(Array.from({ length: 1000 }, () => trimmed.send(newEvent(`${api}_trim`, 'e'))));
    await Promise.all(Array.from({ length: 1000 }, () => untrimmed.send(newEvent(`${api}_trim`, 'kept'))));
    const length = await raw.xlen(trimmedStream);
    assert.ok(length >= 10 && length < 1000, `approximately trimmed to 10, got ${length}`);
    assert.equal(await raw.xlen(untrimmedStream), 1000);
  });

  test('a burst of sends leaves in stream order, each with its own stream id, and a failing XADD fails only its own send', async (t) => {
    const transport = bus();
    t.after(() => transport.close());
    const stream = streamOf(`${api}_burst.*:stream`);
    const notAStream = streamOf(`${api}_str.*:stream`);
    await raw.set(notAStream, 'not a stream');
    const sends = Array.from({ length: 700 }, (_, n) => transport.send(newEvent(n === 350 ? `${api}_str` : `${api}_burst`, 'e', { n })));
    const results = await Promise.allSettled(sends);
    const failed = results.flatMap((r, n) => (r.status === 'rejected' ? [{ n, error: String(r.reason) }] : []));
    assert.deepEqual(failed.map((f) => f.n), [350]);
    assert.match(failed[0]!.error, /WRONGTYPE/);
    const entries = await raw.xrange(stream, '-', '+');
    assert.deepEqual(entries.map(([, fields]) => fields[fields.indexOf(':n') + 1]), Array.from({ length: 700 }, (_, n) => n).filter((n) => n !== 350).map(String));
    assert.deepEqual(
      entries.map(([streamId]) => streamId),
      results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.streamId] : [])),
    );
  });

  test('awkward text is stored byte for byte as a plain XADD stores it; an event with too many fields for a script is written too, in order', async (t) => {
    const transport = bus();
    t.after(() => transport.close());
    const viaTransport = streamOf(`${api}_bytes.*:stream`);
    const viaPlain = streamOf(`${api}_plain.*:stream`);
    const awkward = ['', 'ünïcödé ✓ 😀', 'nul \u0000 and ctl \u0001\u001f\n\t', 'lone \ud800 high', 'lone \udfff low', 'back\\slash "quote" \\ud800', '\u2028', 'x'.repeat(70_000)];
    const message = newEvent(`${api}_bytes`, 'e', Object.fromEntries(awkward.map((text, i) => [`p${i}`, text])));
    message.kwargs['\ud801name'] = 1;
    const many = newEvent(`${api}_bytes`, 'e', Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, i])));
    const after = newEvent(`${api}_bytes`, 'e', { last: true });
    const [first] = await Promise.all([transport.send(message), transport.send(many), transport.send(after)]);
    await raw.xadd(viaPlain, '*', ...encodeEvent(message));
    type Entry = [Buffer, Buffer[]];
    const [[streamId, stored], [, big], [, last]] = (await raw.xrangeBuffer(viaTransport, '-', '+')) as unknown as [Entry, Entry, Entry];
    const [[, plain]] = (await raw.xrangeBuffer(viaPlain, '-', '+')) as unknown as [Entry];
    assert.equal(streamId.toString(), first.streamId);
    assert.deepEqual(stored.map((b) => b.toString('hex')), plain.map((b) => b.toString('hex')));
    assert.equal(big.length, 8 + 2 * 4000);
    assert.deepEqual(last.map(String).slice(-2), [':last', 'true']);
  });

  test('consumers create the stream with a noop entry and use the group and consumer names given', async (t) => {
    const transport = bus();
    t.after(() => transport.close());
    const stream = streamOf(`${api}_groups.*:stream`);
    const group = 'my_service-send_welcome_email';
    const consumer = transport.consume({ group, consumer: 'host-1234', events: [{ api: `${api}_groups`, event: 'user_registered' }] });
    await consumer.ready;
    const [[, noopFields]] = (await raw.xrange(stream, '-', '+')) as [[string, string[]]];
    assert.deepEqual(noopFields, ['', '']);
    await transport.send(newEvent(`${api}_groups`, 'user_registered'));
    await take(consumer, 1);
    const groups = (await raw.xinfo('GROUPS', stream)) as unknown[][];
    assert.deepEqual(groups.map((info) => info[1]), [group]);
    const consumers = (await raw.xinfo('CONSUMERS', stream, group)) as unknown[][];
    assert.deepEqual(consumers.map((info) => info[1]), ['host-1234']);
    const pending = (await raw.xpending(stream, group, '-', '+', 10)) as unknown[][];
    assert.equal(pending.length, 1, 'delivered and not yet acknowledged');
  });
});
