/** RecentSet: "once per X" for an X from outside, in bounded memory. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentSet } from '../../src/util/recent-set.js';

test('a RecentSet says whether an entry is new, keeps at most its capacity and forgets the least recently seen first', () => {
  const seen = new RecentSet(2);
  assert.equal(seen.add('a'), true);
  assert.equal(seen.add('a'), false);
  assert.equal(seen.add('b'), true);
  assert.equal(seen.add('a'), false); // a is now the most recent
  assert.equal(seen.add('c'), true); // b goes
  assert.equal(seen.size, 2);
  assert.equal(seen.add('a'), false);
  assert.equal(seen.add('b'), true);
  for (let i = 0; i < 10_000; i++) seen.add(`k${i}`);
  assert.equal(seen.size, 2);
});
