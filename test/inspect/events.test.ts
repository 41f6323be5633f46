import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { followEvents, latestIds, listEvents, type EventFilter, type EventRow } from '../../src/inspect/events.js';
import { parseMemberPattern } from '../../src/inspect/patterns.js';
import { findEventStreams } from '../../src/inspect/streams.js';
import { uniqueName, waitFor } from '../helpers/wait.js';
import { Seed } from './seed.js';

describe('inspect: events in the streams', () => {
  const seed = new Seed();
  const prefix = uniqueName('t');
  const auth = `${prefix}_auth`;
  const shop = `${prefix}_shop`;
  const authStream = `${auth}.*:stream`;
  const shopStream = `${shop}.user_visited:stream`; // per_event layout
  const t0 = Date.now() - 600_000;
  const ids: Record<string, string> = {};
  const filter = (extra: Partial<EventFilter> = {}): EventFilter => ({ patterns: [parseMemberPattern(auth), parseMemberPattern(shop)], where: [], ...extra });
  const list = async (f: EventFilter, limit = 50) => listEvents(seed.redis, await findEventStreams(seed.redis, f.patterns, 'no-dead-letters'), f, limit);
  const streamIds = (rows: EventRow[]) => rows.map((r) => r.streamId);

  before(async () => {
    await seed.raw(authStream, ['', ''], `${t0 - 1}-0`); // a noop, as written to create a stream
    ids['ada'] = await seed.event(authStream, auth, 'user_registered', { username: 'ada', age: 36 }, { streamId: `${t0}-0`, messageId: 'msg-ada' });
    ids['bob'] = await seed.event(authStream, auth, 'password_changed', { username: 'bob' }, { streamId: `${t0 + 1000}-0` });
    ids['visit'] = await seed.event(shopStream, shop, 'user_visited', { username: 'ada', code: '7' }, { streamId: `${t0 + 1500}-0` });
    ids['bad'] = await seed.raw(authStream, ['id', 'x', 'api_name', auth, 'event_name', 'user_registered', ':username', 'not json'], `${t0 + 2000}-0`);
  });
  after(() => seed.cleanup());

  it('lists every event of the matching streams newest first, noops left out, unreadable ones shown', async () => {
    const rows = await list(filter());
    assert.deepEqual(streamIds(rows), [ids['bad'], ids['visit'], ids['bob'], ids['ada']]);
    assert.match(rows[0]!.malformed!, /username.*not valid JSON/);
    assert.deepEqual(rows[3], {
      stream: authStream,
      streamId: ids['ada'],
      time: new Date(t0).toISOString(),
      id: 'msg-ada',
      api: auth,
      event: 'user_registered',
      version: 1,
      params: { username: 'ada', age: 36 },
    });
  });

  it('filters by member pattern, with wildcards across APIs and layouts', async () => {
    assert.deepEqual(streamIds(await list(filter({ patterns: [parseMemberPattern(`${prefix}*.user_*`)] }))), [ids['visit'], ids['ada']]);
    assert.deepEqual(streamIds(await list(filter({ patterns: [parseMemberPattern(`${auth}.password_changed`)] }))), [ids['bob']]);
  });

  it('filters by parameter value, JSON or as typed', async () => {
    assert.deepEqual(streamIds(await list(filter({ where: [{ name: 'username', value: 'ada', text: 'ada' }] }))), [ids['visit'], ids['ada']]);
    assert.deepEqual(streamIds(await list(filter({ where: [{ name: 'age', value: 36, text: '36' }] }))), [ids['ada']]);
    // code=7 reads as the number 7, but the event carries the string "7": the typed text matches it.
    assert.deepEqual(streamIds(await list(filter({ where: [{ name: 'code', value: 7, text: '7' }] }))), [ids['visit']]);
    assert.deepEqual(await list(filter({ where: [{ name: 'username', value: 'nobody', text: 'nobody' }] })), []);
  });

  it('finds one event by message id or by stream id', async () => {
    assert.deepEqual(streamIds(await list(filter({ id: 'msg-ada' }))), [ids['ada']]);
    assert.deepEqual(streamIds(await list(filter({ id: ids['bob']! }))), [ids['bob']]);
    assert.deepEqual(await list(filter({ id: 'no-such-message' })), []);
  });

  it('filters by time range and honours the limit', async () => {
    assert.deepEqual(streamIds(await list(filter({ sinceMs: t0 + 500, untilMs: t0 + 1500 }))), [ids['visit'], ids['bob']]);
    assert.deepEqual(streamIds(await list(filter(), 2)), [ids['bad'], ids['visit']]);
  });

  it('reads past a page when filters skip most entries', async () => {
    const big = `${prefix}_big.*:stream`;
    const pipeline = seed.redis.pipeline();
    seed.own(big);
    const base = Date.now() - 60_000;
    for (let i = 0; i < 250; i++) pipeline.xadd(big, `${base + i}-0`, 'id', `m${i}`, 'api_name', `${prefix}_big`, 'event_name', 'tick', 'version', '1', ':i', String(i));
    await pipeline.exec();
    const rows = await list({ patterns: [parseMemberPattern(`${prefix}_big.*`)], where: [{ name: 'i', value: 3, text: '3' }] });
    assert.deepEqual(rows.map((r) => r.id), ['m3']);
  });

  it('follows new events with a blocking read, including streams created meanwhile, until aborted', async () => {
    const patterns = [parseMemberPattern(`${prefix}_f*`)];
    const followed = `${prefix}_f1.*:stream`;
    await seed.event(followed, `${prefix}_f1`, 'before', { n: 0 });
    const discover = () => findEventStreams(seed.redis, patterns, 'no-dead-letters');
    const startAt = await latestIds(seed.redis, await discover());
    const blocking = seed.redis.duplicate();
    const seen: EventRow[] = [];
    const controller = new AbortController();
    const following = followEvents({ redis: blocking, discover, startAt, filter: { patterns, where: [] }, onEvent: (row) => seen.push(row), signal: controller.signal, blockMs: 200 });
    await seed.event(followed, `${prefix}_f1`, 'after', { n: 1 });
    await waitFor(() => seen.length >= 1, 'the event fired after following began');
    await seed.event(`${prefix}_f2.*:stream`, `${prefix}_f2`, 'new_stream', { n: 2 });
    await waitFor(() => seen.length >= 2, 'the event on a stream created while following');
    controller.abort();
    await following;
    assert.deepEqual(seen.map((r) => `${r.api}.${r.event}`), [`${prefix}_f1.after`, `${prefix}_f2.new_stream`]);
    assert.equal(blocking.status, 'end');
  });
});
