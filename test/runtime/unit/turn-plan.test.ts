// Which messages a worker thread runs in one turn (src/runtime/turn-plan.ts), with a made-up clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handlerKey, QUICK_TURN_MS, TURN_BUDGET_MS, TurnPlan } from '../../../src/runtime/turn-plan.js';

/** Runs one turn at `at`: admits the keys in order until one is refused; answers the keys that ran. */
function turn(plan: TurnPlan, at: number, keys: string[], msPerMessage = 0): string[] {
  plan.begin(at);
  const ran: string[] = [];
  for (const key of keys) {
    if (!plan.admits(key, at + ran.length * msPerMessage)) break;
    plan.ran(key);
    ran.push(key);
  }
  return ran;
}

test('a handler runs alone until a turn of its own was quick, then shares turns with other quick ones', () => {
  const plan = new TurnPlan();
  assert.deepEqual(turn(plan, 0, ['a', 'a', 'a']), ['a'], 'unknown: alone');
  plan.timeTurn(QUICK_TURN_MS / 2);
  assert.deepEqual(turn(plan, 10, ['a', 'a', 'b']), ['a', 'a'], 'a is quick now; b is not known yet');
  plan.timeTurn(10.1);
  assert.deepEqual(turn(plan, 20, ['b', 'a']), ['b'], 'a turn led by a handler not known quick takes nothing more');
  plan.timeTurn(20.1);
  assert.deepEqual(turn(plan, 30, ['b', 'a', 'b']), ['b', 'a', 'b']);
});

test('a slow turn makes every handler in it run alone again', () => {
  const plan = new TurnPlan();
  turn(plan, 0, ['a']);
  plan.timeTurn(0.1);
  turn(plan, 1, ['b']);
  plan.timeTurn(1.1);
  assert.deepEqual(turn(plan, 2, ['a', 'b']), ['a', 'b']);
  plan.timeTurn(2 + QUICK_TURN_MS + 5);
  assert.deepEqual(turn(plan, 10, ['a', 'b']), ['a']);
  // The next turn's start times the last one when no macrotask came between.
  assert.deepEqual(turn(plan, 10.2, ['b', 'a']), ['b']);
  assert.deepEqual(turn(plan, 10.4, ['a', 'b']), ['a', 'b'], 'both quick again once each ran alone quickly');
});

test('a turn takes no more messages once it has run for the budget', () => {
  const plan = new TurnPlan();
  turn(plan, 0, ['a']);
  plan.timeTurn(0.1);
  const perMessage = TURN_BUDGET_MS / 4;
  assert.equal(turn(plan, 1, Array(10).fill('a'), perMessage).length, 4);
});

test('messages are keyed by what they run', () => {
  const call = { id: 'c', api: 'shop', procedure: 'buy', kwargs: {}, returnPath: 'redis+key://x' };
  assert.equal(handlerKey({ type: 'execute-rpc', requestId: 1, executionId: 1, call }), 'rpc:shop.buy');
  assert.equal(handlerKey({ type: 'execute-events', requestId: 1, executionId: 1, listener: 'audit', events: [] }), 'listener:audit');
  assert.equal(handlerKey({ type: 'run-task', requestId: 1, executionId: 1, task: 'nightly' }), 'task:nightly');
  assert.equal(handlerKey({ type: 'reply', requestId: 1, outcome: { ok: true, value: null } }), 'reply');
});
