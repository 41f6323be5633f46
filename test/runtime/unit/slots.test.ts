// Slots bound the work in flight, and a slot lent out by a waiting execution comes back without waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from '../../../src/runtime/slots.js';

test('no more than the limit are taken; a release wakes one who waits for a free slot', async () => {
  const slots = new Slots(2);
  slots.take(1);
  slots.take(2);
  assert.equal(slots.free, 0);
  let woke = false;
  const waiting = slots.whenFree().then(() => (woke = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(woke, false, 'still full');
  slots.release(1);
  await waiting;
  assert.equal(slots.free, 1);
  assert.throws(() => new Slots(0), RangeError);
});

test('an execution waiting on its own call lends its slot out and takes it back at once, even past the limit', () => {
  const slots = new Slots(1);
  slots.take(1);
  slots.suspend(1);
  assert.equal(slots.free, 1, 'lent out while the call waits');
  slots.take(2); // the nested call's execution
  slots.resume(1);
  assert.equal(slots.free, 0, 'over the limit, never waiting');
  slots.release(2);
  slots.release(1);
  assert.equal(slots.free, 1);
});
