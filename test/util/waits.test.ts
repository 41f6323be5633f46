/** The package's one copy of each bounded wait: settleWithin, withTimeout, sleep, the backoff and the deadlines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelayMs } from '../../src/util/backoff.js';
import { Deadlines, SWEEP_MS } from '../../src/util/deadlines.js';
import { settleWithin, sleep, withTimeout } from '../../src/util/timeouts.js';

const never = new Promise<never>(() => undefined);

test('settleWithin: true once the promise settles (a rejection is consumed), false when time runs out first', async () => {
  assert.equal(await settleWithin(Promise.resolve(1), 1000), true);
  assert.equal(await settleWithin(Promise.reject(new Error('consumed')), 1000), true);
  const started = Date.now();
  assert.equal(await settleWithin(never, 30), false);
  assert.ok(Date.now() - started >= 29);
});

test('withTimeout: the outcome of the promise, or a rejection with the error made at the timeout', async () => {
  assert.equal(await withTimeout(Promise.resolve('value'), 1000, () => new Error('not made')), 'value');
  await assert.rejects(withTimeout(Promise.reject(new TypeError('own')), 1000, () => new Error('not made')), TypeError);
  let made = 0;
  await assert.rejects(
    withTimeout(never, 20, () => {
      made++;
      return new RangeError('too slow');
    }),
    /too slow/,
  );
  assert.equal(made, 1);
});

test('sleep: waits its time, and an abort ends it at once (and a sleep begun after the abort)', async () => {
  let started = Date.now();
  await sleep(30);
  assert.ok(Date.now() - started >= 29);
  const stop = new AbortController();
  started = Date.now();
  const sleeping = sleep(10_000, stop.signal);
  stop.abort();
  await sleeping;
  await sleep(10_000, stop.signal);
  assert.ok(Date.now() - started < 1000, 'neither sleep waited');
});

test('backoffDelayMs doubles from the base up to the cap, and never overflows', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n)), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.deepEqual([0, 1, 2].map((n) => backoffDelayMs(n, 50, 120)), [50, 100, 120]);
  assert.equal(backoffDelayMs(10_000, 100, Infinity), 100 * 2 ** 30);
});

test('Backoff: consecutive failures wait longer, a success starts again from the base, stop ends every wait', async () => {
  const backoff = new Backoff(20, 1000);
  const timed = async () => {
    const started = Date.now();
    await backoff.wait();
    return Date.now() - started;
  };
  assert.ok((await timed()) >= 19);
  assert.ok((await timed()) >= 39, 'the second failure waits twice as long');
  backoff.reset();
  const afterReset = await timed();
  assert.ok(afterReset >= 19 && afterReset < 39 + 200, `after a success the base again (${afterReset} ms)`);
  const long = new Backoff(10_000);
  const waiting = long.wait();
  long.stop();
  const started = Date.now();
  await waiting;
  await long.wait();
  assert.ok(Date.now() - started < 1000, 'a stopped backoff does not wait');
});

test('Deadlines: a wait expires once its time passed, never before; a settled one never expires; stop ends checking', async () => {
  const expired: string[] = [];
  const deadlines = new Deadlines<{ name: string; expiresAt: number }>((item) => expired.push(item.name));
  const soon = { name: 'soon', expiresAt: Date.now() + 30 };
  const settled = { name: 'settled', expiresAt: Date.now() + 30 };
  const later = { name: 'later', expiresAt: Date.now() + 10_000 };
  deadlines.add(soon);
  deadlines.add(settled);
  deadlines.add(later);
  assert.equal(deadlines.delete(settled), true, 'it was waiting');
  await sleep(30 + 3 * SWEEP_MS);
  assert.deepEqual(expired, ['soon']);
  assert.equal(deadlines.delete(soon), false, 'an expired wait is not waiting any more: nobody settles it twice');
  deadlines.stop();
  const stopped = { name: 'after stop', expiresAt: Date.now() };
  deadlines.add(stopped);
  await sleep(3 * SWEEP_MS);
  assert.deepEqual(expired, ['soon'], 'nothing is checked after stop');
});
