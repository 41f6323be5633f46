/**
 * The lane logic of an ordered listener, without I/O: a key held by a running batch (or an
 * event running alone) waits, events of one key are taken in the order they were added, what
 * a batch did not run goes back first, and the bound counts everything not yet finished.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedLanes, defaultConcurrency, orderKey, type Keyed } from '../../../src/runtime/keyed-lanes.js';

const keyed = (spec: string): Keyed<string>[] => spec.split(' ').map((item) => ({ key: item[0]!, item }));
const items = (batch: Keyed<string>[]) => batch.map((entry) => entry.item);

test('a read splits evenly over the free lanes, all events of a key in one batch', () => {
  const lanes = new KeyedLanes<string>(100);
  lanes.add(keyed('a1 b1 a2 c1 b2 a3'));
  const batches = lanes.take(2, 10).map(items);
  assert.deepEqual(batches, [['a1', 'b1', 'a2'], ['c1']]);
  // b2 and a3 wait: their keys are held by the first batch.
  assert.equal(lanes.queued, 2);
  assert.deepEqual(lanes.take(5, 10), []);
});

test('a held key waits for its batch to finish, then its events run in the order they came', () => {
  const lanes = new KeyedLanes<string>(100);
  lanes.add(keyed('a1 a2'));
  const [first] = lanes.take(1, 1);
  assert.deepEqual(items(first!), ['a1']);
  lanes.add(keyed('a3 b1'));
  // Two lanes free, but a is held: only b may start.
  assert.deepEqual(lanes.take(2, 10).map(items), [['b1']]);
  lanes.finish(first!);
  assert.deepEqual(lanes.take(1, 10).map(items), [['a2', 'a3']]);
});

test('a batch takes at most batchSize, and the rest of its key stays behind it', () => {
  const lanes = new KeyedLanes<string>(100);
  lanes.add(keyed('a1 a2 a3 b1'));
  const [first, second] = lanes.take(2, 2);
  assert.deepEqual(items(first!), ['a1', 'a2']);
  // a3 is skipped (a is held by the first batch), b1 is free.
  assert.deepEqual(items(second!), ['b1']);
  lanes.finish(first!);
  assert.deepEqual(lanes.take(1, 2).map(items), [['a3']]);
});

test('events a batch did not run go back ahead of later events of their key', () => {
  const lanes = new KeyedLanes<string>(100);
  lanes.add(keyed('a1 a2 a3'));
  const [batch] = lanes.take(1, 3);
  lanes.add(keyed('a4'));
  // a1 crashed its thread and runs again alone; a2 and a3 never ran.
  lanes.holdAlone('a');
  lanes.finish(batch!, batch!.slice(1));
  assert.deepEqual(lanes.take(1, 10), [], 'a waits for the event running alone');
  lanes.releaseAlone('a');
  assert.deepEqual(lanes.take(1, 10).map(items), [['a2', 'a3', 'a4']]);
});

test('room counts queued, running and lone events against the bound', () => {
  const lanes = new KeyedLanes<string>(4);
  lanes.add(keyed('a1 a2 b1'));
  assert.equal(lanes.room, 1);
  const [batch] = lanes.take(1, 2);
  assert.equal(lanes.room, 1, 'taken is still held');
  lanes.holdAlone(batch![0]!.key);
  lanes.finish(batch!);
  assert.equal(lanes.held, 2, 'b1 queued and a1 running alone');
  lanes.releaseAlone('a');
  assert.equal(lanes.room, 3);
  assert.deepEqual(lanes.drain(), ['b1']);
  assert.equal(lanes.room, 4);
});

test('the order key is the parameter as text; without it an event is ordered with nothing', () => {
  assert.equal(orderKey({ user_id: 'u1' }, 'user_id', 's', '1-0'), 'u1');
  assert.equal(orderKey({ user_id: 7 }, 'user_id', 's', '1-0'), '7');
  assert.equal(orderKey({ user_id: { a: [1] } }, 'user_id', 's', '1-0'), '{"a":[1]}');
  assert.notEqual(orderKey({}, 'user_id', 's', '1-0'), orderKey({}, 'user_id', 's', '2-0'));
  assert.notEqual(orderKey({ user_id: null }, 'user_id', 's', '1-0'), orderKey({ user_id: null }, 'user_id', 's', '2-0'));
  // Inherited properties are not parameters.
  assert.notEqual(orderKey({}, 'constructor', 's', '1-0'), orderKey({}, 'constructor', 's', '2-0'));
});

test('the default concurrency keeps stream order without orderBy and feeds every worker with it', () => {
  assert.equal(defaultConcurrency(undefined, 4), 1);
  assert.equal(defaultConcurrency('user_id', 2), 4);
  assert.equal(defaultConcurrency('user_id', 0), 2);
});
