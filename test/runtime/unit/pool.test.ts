/**
 * The worker pool with real worker threads and no Redis: it hands work to the least-loaded
 * thread, and replaces a thread that dies, handing the dead thread's event batch to the
 * replacement.
 */
import assert from 'node:assert/strict';
import { RUN_AGAIN_ALONE } from '../../../src/runtime/crashed-batch.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { resolveConfig } from '../../../src/config/load.js';
import { WorkerPool } from '../../../src/runtime/pool.js';
import type { Outcome, ToInvoker } from '../../../src/runtime/protocol.js';
import { waitFor } from '../../helpers/wait.js';
import { fixturePath } from '../helpers/runner-process.js';

const markers = mkdtempSync(join(tmpdir(), 'lightbus-unit-pool-'));
process.env['FIXTURE_MARKER_DIR'] = markers;
const config = resolveConfig({ serviceName: 'unit_pool_svc', transport: 'memory', logLevel: 'silent' });
const fatal: Error[] = [];
const pool = new WorkerPool({
  size: 2,
  modules: [fixturePath('unit-pool.ts')],
  config,
  logger: pino({ level: 'silent' }),
  writeLog: () => undefined,
  onCommand: async () => ({ ok: true, value: null }),
  concurrencyPerWorker: 4,
  maxCrashRedeliveries: 3,
  onFatal: (error) => fatal.push(error),
});

before(async () => {
  const registrations = await pool.start();
  assert.deepEqual(registrations.apis.map((a) => a.name), ['unit_pool']);
});

after(async () => {
  await pool.close(1000);
  rmSync(markers, { recursive: true, force: true });
});

let callSeq = 0;
const call = (procedure: string, kwargs: Record<string, unknown> = {}) => ({ id: `c${++callSeq}`, api: 'unit_pool', procedure, kwargs, returnPath: 'redis+key://unit_pool.x:result:1' });
const valueOf = (outcome: Outcome): unknown => {
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return outcome.value;
};

test('work goes to the least-loaded thread: a quick call does not queue behind a busy thread', async () => {
  const busy = pool.executeRpc(call('hold', { ms: 300 }), 1);
  const quick = valueOf(await pool.executeRpc(call('whoami'), 2));
  const held = valueOf(await busy);
  assert.notEqual(quick, held, 'the second call ran on the idle thread');
  assert.equal(pool.rpcCapacity, 8);
});

test('a thread that dies is replaced; its batch goes on elsewhere, and the event that crashed it runs again alone', async () => {
  const events = ['before', 'crash', 'after'].map((id, n) => ({ id: `e${n}`, api: 'unit_pool', event: 'job', version: 1, kwargs: { id }, streamId: `1-${n}` }));
  const outcomes = await pool.executeEvents('jobs', events, 3);
  assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.error.name)), ['ok', RUN_AGAIN_ALONE, 'ok'], JSON.stringify(outcomes));
  // Its listener hands it back as a batch of its own: it runs on the quarantine thread.
  const again = await pool.executeEvents('jobs', [events[1]!], 4);
  assert.deepEqual(again.map((o) => o.ok), [true], JSON.stringify(again));
  const crashedOn = Number(readFileSync(join(markers, 'crash'), 'utf8'));
  await waitFor(() => pool.workerCount === 2, 'the replacement thread to be ready', 10_000);
  // Concurrent holds spread over both live threads (least loaded first); neither is the dead one.
  const spread = await Promise.all([0, 1].map((n) => pool.executeRpc(call('hold', { ms: 200 }), 20 + n)));
  const threads = new Set(spread.map(valueOf));
  assert.equal(threads.size, 2, 'two live threads again');
  assert.ok(!threads.has(crashedOn), 'the dead thread is gone');
  assert.deepEqual(fatal, []);
});

/** The answers (`rpc-done`) each postMessage from a worker thread carried while `run` ran, as counts per message. */
async function answersPerMessage(run: () => Promise<unknown>): Promise<number[]> {
  const counts: number[] = [];
  const emit = Worker.prototype.emit;
  Worker.prototype.emit = function (this: Worker, name: string | symbol, ...args: unknown[]) {
    if (name === 'message' && Array.isArray(args[0])) {
      const answers = (args[0] as ToInvoker[]).filter((m) => m.type === 'rpc-done').length;
      if (answers > 0) counts.push(answers);
    }
    return emit.call(this, name, ...args);
  } as typeof emit;
  try {
    await run();
  } finally {
    Worker.prototype.emit = emit;
  }
  return counts;
}

test('quick calls dispatched together are answered together: one postMessage carries several answers', async () => {
  await waitFor(() => pool.workerCount === 2, 'both threads to be ready', 10_000);
  // A handler shares turns once a turn of its own was quick (turn-plan.ts); its first runs also compile it.
  for (let round = 0; round < 5; round++) await Promise.all([1, 2].map((n) => pool.executeRpc(call('whoami'), 100 + 2 * round + n)));
  const counts = await answersPerMessage(() => Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => pool.executeRpc(call('whoami'), 120 + n))));
  assert.equal(counts.reduce((a, b) => a + b, 0), 8, JSON.stringify(counts));
  // Four calls reach each thread in one array; run one per turn, each answer would be posted alone.
  assert.ok(counts.length < 8, `answers per postMessage: ${JSON.stringify(counts)}`);
});

test('quick calls dispatched together go to one thread while it has slots; the rest to the other', async () => {
  await waitFor(() => pool.workerCount === 2, 'both threads to be ready', 10_000);
  for (let round = 0; round < 5; round++) await Promise.all([1, 2].map((n) => pool.executeRpc(call('whoami'), 140 + 2 * round + n)));
  const four = await Promise.all([1, 2, 3, 4].map((n) => pool.executeRpc(call('whoami'), 160 + n)));
  assert.equal(new Set(four.map(valueOf)).size, 1, `four calls, one thread: ${JSON.stringify(four)}`);
  // Each thread has 4 slots (concurrencyPerWorker): the fifth and sixth go to the other thread.
  const six = (await Promise.all([1, 2, 3, 4, 5, 6].map((n) => pool.executeRpc(call('whoami'), 170 + n)))).map(valueOf);
  assert.equal(new Set(six.slice(0, 4)).size, 1, JSON.stringify(six));
  assert.equal(new Set(six.slice(4)).size, 1, JSON.stringify(six));
  assert.notEqual(six[0], six[4], JSON.stringify(six));
});

test('a CPU-bound handler ends its turn: its answer leaves before the next handler in its thread starts', async () => {
  const threads: unknown[] = [];
  const counts = await answersPerMessage(() =>
    Promise.all([1, 2, 3, 4].map(async (n) => threads.push(valueOf(await pool.executeRpc(call('spin', { ms: 30 }), 130 + n))))),
  );
  assert.equal(new Set(threads).size, 2, 'two spins on each thread');
  // Had the four run in one turn per thread, each thread's two answers would share a message.
  assert.deepEqual(counts, [1, 1, 1, 1]);
});
