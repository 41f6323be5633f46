// Which messages a worker thread runs in one turn (src/runtime/turn-plan.ts), with a made-up clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handlerKey, QUICK_MS, TURN_BUDGET_MS, TurnPlan } from '../../../src/runtime/turn-plan.js';

/**
 * Runs one turn from `at`: admits the messages in order until one is refused, each taking the ms
 * `took` gives it (its synchronous part); answers the keys that ran and when the last one ended.
 */
function turn(plan: TurnPlan, at: number, keys: string[], took: (key: string) => number = () => 0.01): { ran: string[]; endedAt: number } {
  plan.begin(at);
  const ran: string[] = [];
  let now = at;
  for (const key of keys) {
    if (!plan.admits(key, now)) break;
    const ms = took(key);
    plan.ran(key, now, now + ms);
    now += ms;
    ran.push(key);
  }
  return { ran, endedAt: now };
}

test('a handler runs alone until it and its turn were quick, then shares turns with other quick ones', () => {
  const plan = new TurnPlan();
  assert.deepEqual(turn(plan, 0, ['a', 'a', 'a']).ran, ['a'], 'unknown: alone');
  plan.timeTurn(QUICK_MS / 2);
  assert.deepEqual(turn(plan, 10, ['a', 'a', 'b']).ran, ['a', 'a'], 'a is quick now; b is not known yet');
  plan.timeTurn(10.1);
  assert.deepEqual(turn(plan, 20, ['b', 'a']).ran, ['b'], 'a turn led by a handler not known quick takes nothing more');
  plan.timeTurn(20.1);
  assert.deepEqual(turn(plan, 30, ['b', 'a', 'b']).ran, ['b', 'a', 'b']);
});

test('a CPU-bound run makes its own handler run alone again, and ends the turn', () => {
  const plan = new TurnPlan();
  for (const key of ['a', 'b']) {
    turn(plan, 0, [key]);
    plan.timeTurn(0.1);
  }
  const { ran, endedAt } = turn(plan, 1, ['a', 'b', 'a'], (key) => (key === 'b' ? QUICK_MS + 4 : 0.01));
  assert.deepEqual(ran, ['a', 'b']);
  plan.timeTurn(endedAt + 0.1);
  assert.deepEqual(turn(plan, 10, ['a', 'a', 'b', 'a']).ran, ['a', 'a'], 'a is still quick; b runs alone');
  assert.deepEqual(turn(plan, 20, ['b', 'a'], (key) => (key === 'b' ? QUICK_MS + 4 : 0.01)).ran, ['b'], 'a slow first run takes nothing after it');
});

test('slow microtasks after a turn make every handler of that turn run alone again', () => {
  const plan = new TurnPlan();
  for (const key of ['a', 'b']) {
    turn(plan, 0, [key]);
    plan.timeTurn(0.1);
  }
  const { ran, endedAt } = turn(plan, 2, ['a', 'b']);
  assert.deepEqual(ran, ['a', 'b']);
  plan.timeTurn(endedAt + QUICK_MS + 5);
  assert.deepEqual(turn(plan, 10, ['a', 'b']).ran, ['a']);
  // The next turn's start times the last one when no macrotask came between.
  assert.deepEqual(turn(plan, 10.2, ['b', 'a']).ran, ['b']);
  assert.deepEqual(turn(plan, 10.4, ['a', 'b']).ran, ['a', 'b'], 'both quick again once each ran alone quickly');
});

test('a turn takes no more messages once it has run for the budget, and that does not make them slow', () => {
  const plan = new TurnPlan();
  turn(plan, 0, ['a']);
  plan.timeTurn(0.1);
  const { ran, endedAt } = turn(plan, 1, Array(10).fill('a'), () => TURN_BUDGET_MS / 4);
  assert.equal(ran.length, 4);
  plan.timeTurn(endedAt + 0.1);
  assert.equal(turn(plan, 5, Array(3).fill('a')).ran.length, 3, 'still quick after a full turn of quick runs');
});

test('messages are keyed by what they run', () => {
  const call = { id: 'c', api: 'shop', procedure: 'buy', kwargs: {}, returnPath: 'redis+key://x' };
  assert.equal(handlerKey({ type: 'execute-rpc', requestId: 1, executionId: 1, call }), 'rpc:shop.buy');
  assert.equal(handlerKey({ type: 'execute-events', requestId: 1, executionId: 1, listener: 'audit', events: [] }), 'listener:audit');
  assert.equal(handlerKey({ type: 'run-task', requestId: 1, executionId: 1, task: 'nightly' }), 'task:nightly');
  assert.equal(handlerKey({ type: 'reply', requestId: 1, outcome: { ok: true, value: null } }), 'reply');
});
