// How a batch whose worker died is split (crashed-batch.ts), from the progress the worker left
// in shared memory (batch-progress.ts): written by a ProgressWriter, read by the ProgressBoard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressBoard, ProgressWriter } from '../../src/runtime/batch-progress.js';
import { judgeCrashedBatch } from '../../src/runtime/crashed-batch.js';
import type { Outcome } from '../../src/runtime/protocol.js';
import type { InFlight } from '../../src/runtime/worker-handle.js';

const events = Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, api: 'shop', event: 'paid', version: 1, kwargs: {}, streamId: `1-${i}` }));
const OK: Outcome<null> = { ok: true, value: null };
const failedOutcome: Outcome<null> = { ok: false, error: { name: 'Error', message: 'handler threw' } };

function orphan(requestId: number, board: ProgressBoard, extra: Partial<InFlight> = {}): InFlight {
  const finished = board.finished(requestId);
  return {
    kind: 'events',
    message: { type: 'execute-events', requestId, executionId: 1, listener: 'l', events },
    startedAt: 0,
    resolve: () => undefined,
    ...(finished !== undefined ? { finished } : {}),
    untracked: board.untracked,
    ...extra,
  };
}

test('the board reads how far each batch got; a batch never started reads as undefined; a freed slot is reused', () => {
  const board = new ProgressBoard();
  const writer = new ProgressWriter(board.buffer);
  const a = writer.begin(7)!;
  const b = writer.begin(7 + 1024)!; // the same first slot: probes on
  a.finished(3);
  b.finished(1);
  assert.equal(board.finished(7), 3);
  assert.equal(board.finished(7 + 1024), 1);
  assert.equal(board.finished(8), undefined);
  board.free(7);
  assert.equal(board.finished(7), undefined);
  assert.equal(board.untracked, false);
});

test('a crash blames only the running event: those before it settle as they ended, it and the rest run again', () => {
  const board = new ProgressBoard();
  new ProgressWriter(board.buffer).begin(1)!.finished(2);
  const verdict = judgeCrashedBatch(orphan(1, board, { failures: new Map([[1, failedOutcome]]) }), events, false, 3, 'worker 1 exited with code 3');
  assert.equal(verdict.kind, 'continue');
  if (verdict.kind !== 'continue') return;
  assert.deepEqual(verdict.outcomes, [OK, failedOutcome], 'a failure reported before the crash keeps its outcome (dead letter, not an ack)');
  assert.deepEqual(verdict.redeliver.map((e) => e.id), ['m2', 'm3', 'm4']);
  assert.deepEqual(verdict.blamed.map((e) => e.id), ['m2']);
  assert.deepEqual([...verdict.crashes.values()], [1]);
});

test('past maxCrashRedeliveries the running event fails with WorkerCrashedError; its siblings are not failed', () => {
  const board = new ProgressBoard();
  new ProgressWriter(board.buffer).begin(1)!.finished(0);
  const crashes = new Map([['shop\u0000paid\u00001-0', 2]]);
  const verdict = judgeCrashedBatch(orphan(1, board, { crashes }), events, false, 2, 'worker 1 exited with code 3');
  assert.equal(verdict.kind, 'settle');
  if (verdict.kind !== 'settle') return;
  assert.equal(verdict.outcomes.length, 1, 'only the running event has an outcome; the rest are released');
  const [only] = verdict.outcomes;
  assert.ok(only && !only.ok && only.error.name === 'WorkerCrashedError');
  assert.match(only.error.message, /3 times/);
  assert.equal(verdict.failed?.crashes, 3);
});

test('a batch that never started blames nobody; under a stopping policy a failure before the crash ends the batch', () => {
  const board = new ProgressBoard();
  const never = judgeCrashedBatch(orphan(9, board), events, false, 3, 'crash');
  assert.equal(never.kind, 'continue');
  if (never.kind === 'continue') assert.deepEqual([never.blamed.length, never.redeliver.length], [0, 5]);

  new ProgressWriter(board.buffer).begin(2)!.finished(2);
  const stopped = judgeCrashedBatch(orphan(2, board, { failures: new Map([[0, failedOutcome]]) }), events, true, 3, 'crash');
  assert.deepEqual(stopped, { kind: 'settle', outcomes: [failedOutcome] });
});

test('a batch past its hard deadline fails the running event at once, not its first one', () => {
  const board = new ProgressBoard();
  new ProgressWriter(board.buffer).begin(1)!.finished(3);
  const verdict = judgeCrashedBatch(orphan(1, board), events, false, 3, 'terminated', Object.assign(new Error('past its hard deadline'), { name: 'DeadlineExceededError' }));
  assert.equal(verdict.kind, 'settle');
  assert.deepEqual(verdict.outcomes.map((o) => o.ok), [true, true, true, false]);
});
