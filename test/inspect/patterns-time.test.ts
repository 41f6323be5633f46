import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesMember, parseMemberPattern } from '../../src/inspect/patterns.js';
import { namedStreams, parseStreamKey, streamMayMatch } from '../../src/inspect/streams.js';
import { compareStreamIds, parseTimeBound } from '../../src/inspect/time.js';

describe('member patterns', () => {
  const match = (pattern: string, api: string, member: string) => matchesMember([parseMemberPattern(pattern)], api, member);

  it('matches API and member with wildcards', () => {
    assert.ok(match('auth.*', 'auth', 'user_registered'));
    assert.ok(!match('auth.*', 'billing', 'user_registered'));
    assert.ok(match('*.user_*', 'auth', 'user_registered'));
    assert.ok(match('*.user_*', 'my_company.auth', 'user_deleted'));
    assert.ok(!match('*.user_*', 'auth', 'password_changed'));
    assert.ok(match('auth', 'auth', 'anything'));
    assert.ok(match('my_company.auth.*', 'my_company.auth', 'x'));
    assert.ok(match('auth.user_?egistered', 'auth', 'user_registered'));
    assert.ok(!match('au+th.*', 'auuth', 'x'), 'regex characters are literal');
    assert.ok(matchesMember([], 'any', 'thing'));
  });

  it('knows when a pattern names an API and member exactly', () => {
    const p = parseMemberPattern('auth.user_registered');
    assert.equal(p.exactApi, 'auth');
    assert.equal(p.exactMember, 'user_registered');
    assert.equal(parseMemberPattern('*.x').exactApi, undefined);
    assert.equal(parseMemberPattern('auth.*').anyMember, true);
    assert.deepEqual(namedStreams([parseMemberPattern('auth.*'), parseMemberPattern('*.x')], 'per_api').map((s) => s.key), ['auth.*:stream']);
    assert.deepEqual(namedStreams([parseMemberPattern('auth.ev'), parseMemberPattern('auth.*')], 'per_event').map((s) => s.key), ['auth.ev:stream']);
  });

  it('reads stream keys of both layouts and skips other keys', () => {
    assert.deepEqual(parseStreamKey('auth.*:stream'), { key: 'auth.*:stream', api: 'auth', event: undefined });
    assert.deepEqual(parseStreamKey('a.b.ev:stream'), { key: 'a.b.ev:stream', api: 'a.b', event: 'ev' });
    assert.equal(parseStreamKey('lightbus:dead_letter:stream'), undefined);
    assert.equal(parseStreamKey('auth:rpc_queue'), undefined);
    const perEvent = parseStreamKey('auth.user_registered:stream')!;
    assert.ok(streamMayMatch(perEvent, [parseMemberPattern('auth.user_*')]));
    assert.ok(!streamMayMatch(perEvent, [parseMemberPattern('auth.password_*')]));
  });
});

describe('time bounds', () => {
  const now = Date.UTC(2025, 4, 1, 12, 0, 0);

  it('reads durations ago, ISO times and stream ids', () => {
    assert.equal(parseTimeBound('10m', now), now - 600_000);
    assert.equal(parseTimeBound('1.5h', now), now - 5_400_000);
    assert.equal(parseTimeBound('500ms', now), now - 500);
    assert.equal(parseTimeBound('1d', now), now - 86_400_000);
    assert.equal(parseTimeBound('2025-05-01T10:00:00Z', now), Date.UTC(2025, 4, 1, 10));
    assert.equal(parseTimeBound('2025-05-01', now), Date.UTC(2025, 4, 1));
    assert.equal(parseTimeBound('1714557600000-3', now), 1714557600000);
    assert.throws(() => parseTimeBound('yesterday', now), /is not a time/);
    assert.throws(() => parseTimeBound('2025-13-45T99:00', now), /is not a time/);
  });

  it('orders stream ids numerically', () => {
    assert.ok(compareStreamIds('9-0', '10-0') < 0);
    assert.ok(compareStreamIds('10-2', '10-10') < 0);
    assert.equal(compareStreamIds('5-1', '5-1'), 0);
  });
});
