import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeadLetterNotFoundError,
  DeadLetterUnreplayableError,
  deleteDeadLetter,
  listDeadLetters,
  replayDeadLetter,
} from '../../src/inspect/dead-letters.js';
import { parseMemberPattern } from '../../src/inspect/patterns.js';
import { encodeDeadLetter, encodeEvent } from '../../src/transport/wire/events.js';
import { uniqueName } from '../helpers/wait.js';
import { Seed } from './seed.js';

describe('inspect: dead letters', () => {
  const seed = new Seed();
  const prefix = uniqueName('t');
  const dlq = `${prefix}:dead_letter:stream`;
  const api = `${prefix}_auth`;
  const stream = `${api}.*:stream`;
  // Back onto the original stream: the replay to one group is tested in replay-to-group.test.ts.
  const options = { maxStreamLength: 1000, allGroups: true };

  async function deadLetter(event: string, group: string, fields = encodeEvent({ id: `${event}-id`, api, event, version: 1, kwargs: { username: event } })): Promise<string> {
    seed.own(dlq);
    const letter = encodeDeadLetter({ stream, streamId: '1-0', group, reason: `${event} failed`, fields, time: new Date('2025-05-01T10:00:00Z') });
    return (await seed.redis.xadd(dlq, '*', ...letter)) as string;
  }

  let ada: string;
  let bob: string;
  let broken: string;
  before(async () => {
    seed.own(stream);
    ada = await deadLetter('user_registered', 'svc-mailer');
    bob = await deadLetter('password_changed', 'svc-audit');
    broken = await deadLetter('user_registered', 'svc-mailer', ['id', 'x', ':username', 'not json']);
  });
  after(() => seed.cleanup());

  it('lists dead letters newest first with the original event decoded', async () => {
    const rows = await listDeadLetters(seed.redis, dlq, { patterns: [] }, 10);
    assert.deepEqual(rows.map((r) => r.id), [broken, bob, ada]);
    assert.match(rows[0]!.malformed!, /not valid JSON/);
    assert.deepEqual(
      { ...rows[2], fields: undefined },
      {
        id: ada,
        time: '2025-05-01T10:00:00.000Z',
        stream,
        streamId: '1-0',
        group: 'svc-mailer',
        reason: 'user_registered failed',
        fields: undefined,
        api,
        event: 'user_registered',
        messageId: 'user_registered-id',
        params: { username: 'user_registered' },
      },
    );
  });

  it('filters by event pattern and group glob, and limits', async () => {
    assert.deepEqual((await listDeadLetters(seed.redis, dlq, { patterns: [parseMemberPattern(`${api}.password_*`)] }, 10)).map((r) => r.id), [bob]);
    assert.deepEqual((await listDeadLetters(seed.redis, dlq, { patterns: [], group: '*-mailer' }, 10)).map((r) => r.id), [broken, ada]);
    assert.deepEqual((await listDeadLetters(seed.redis, dlq, { patterns: [] }, 1)).map((r) => r.id), [broken]);
  });

  it('replays a dead letter onto its stream exactly once, even when two replays race', async () => {
    const results = await Promise.allSettled([replayDeadLetter(seed.redis, dlq, ada, options), replayDeadLetter(seed.redis, dlq, ada, options)]);
    const done = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof replayDeadLetter>>> => r.status === 'fulfilled');
    assert.equal(done.length, 1);
    assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof DeadLetterNotFoundError));
    const [entry] = (await seed.redis.xrange(stream, done[0]!.value.streamId, done[0]!.value.streamId)) as Array<[string, string[]]>;
    assert.deepEqual(entry![1], encodeEvent({ id: 'user_registered-id', api, event: 'user_registered', version: 1, kwargs: { username: 'user_registered' } }));
    assert.equal(done[0]!.value.stream, stream);
    assert.deepEqual(await seed.redis.xrange(dlq, ada, ada), []);
  });

  it('refuses to replay an unreadable entry unless forced', async () => {
    await assert.rejects(replayDeadLetter(seed.redis, dlq, broken, options), DeadLetterUnreplayableError);
    const replayed = await replayDeadLetter(seed.redis, dlq, broken, { ...options, force: true });
    const [entry] = (await seed.redis.xrange(stream, replayed.streamId, replayed.streamId)) as Array<[string, string[]]>;
    assert.deepEqual(entry![1], ['id', 'x', ':username', 'not json']);
  });

  it('deletes a dead letter, and says when there is none', async () => {
    await deleteDeadLetter(seed.redis, dlq, bob);
    assert.equal(await seed.redis.xlen(dlq), 0);
    await assert.rejects(deleteDeadLetter(seed.redis, dlq, bob), DeadLetterNotFoundError);
    await assert.rejects(replayDeadLetter(seed.redis, dlq, '1-1', options), DeadLetterNotFoundError);
    await assert.rejects(deleteDeadLetter(seed.redis, dlq, 'not-an-id'), TypeError);
  });
});
