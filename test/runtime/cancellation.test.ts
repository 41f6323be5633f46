// Cancellation and deadlines across processes: a caller's AbortSignal withdraws its call (the
// serving handler's signal aborts, down a chain of nested calls), a call whose caller gave up
// is not started, and a handler sees its deadline, which nested calls inherit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { AbortError, createBus, RpcTimeoutError } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner, type RunnerProcess } from './helpers/runner-process.js';

const names = testNames('cancel');
const tallyRedis = new Redis('redis://127.0.0.1:6379/0');
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
const rpc = (name: 'chain' | 'slow' | 'remaining' | 'call_and_abort') => `${names.api}.${name}`;
let runner: RunnerProcess | undefined;

const field = (name: string) => tallyRedis.hget(names.tally, name);

/** Bounded; never an assertion on speed: the figure is printed for the record. */
async function timed<T>(promise: Promise<T>): Promise<{ settled: PromiseSettledResult<T>; ms: number }> {
  const started = performance.now();
  const [settled] = await Promise.allSettled([promise]);
  return { settled: settled!, ms: performance.now() - started };
}

/** One worker (or the invoker's thread, `--inline`) and one slot: a call behind a running one waits in the queue, in Redis. */
async function startServer(inline: boolean): Promise<void> {
  await runner?.stop();
  await tallyRedis.del(names.tally); // each round records the same tags afresh
  runner = await startRunner({
    modules: ['cancellation.ts'],
    serviceName: names.service,
    config: { logLevel: 'debug', runner: { concurrency: 1 } },
    env: fixtureEnv(names),
    ...(inline ? { args: ['--inline'] } : { workers: 1 }),
  });
  await runner.ready();
}

after(async () => {
  await bus.close();
  tallyRedis.disconnect();
  await cleanUpRunners();
  await cleanUpNames(names);
});

for (const inline of [false, true]) describe(`cancellation and deadlines across processes (${inline ? '--inline' : 'worker threads'})`, () => {
  before(() => startServer(inline));

  test('aborting a call rejects it at once with an AbortError, and the handler at every level of its nested chain sees its signal abort', async () => {
    const controller = new AbortController();
    const call = bus.call(rpc('chain'), { tag: 'c1', depth: 2 }, { signal: controller.signal, timeoutMs: 15_000 });
    call.catch(() => undefined);
    await waitFor(() => field('started:c1:0'), 'the innermost handler to start', 10_000);
    controller.abort(new Error('the user closed the page'));
    const { settled, ms } = await timed(call);
    assert.equal(settled.status, 'rejected');
    const error = (settled as PromiseRejectedResult).reason as Error;
    assert.ok(error instanceof AbortError, `an AbortError, got ${error.name}: ${error.message}`);
    assert.equal((error.cause as Error).message, 'the user closed the page', "the signal's reason is the cause");
    console.log(`# aborted call rejected after ${ms.toFixed(1)} ms`);
    assert.ok(ms < 1000, `rejected at once (${ms} ms)`);
    for (const depth of [2, 1, 0]) {
      assert.equal(await waitFor(() => field(`aborted:c1:${depth}`), `level ${depth} to see its signal abort`, 10_000), 'AbortError');
    }
  });

  test('a call aborted while still queued is dropped, not run', async () => {
    const busy = bus.call(rpc('slow'), { tag: 'busy1', ms: 1500 }, { timeoutMs: 10_000 });
    await waitFor(() => field('ran:busy1'), 'the busy call to take the only slot');
    const controller = new AbortController();
    const queued = bus.call(rpc('slow'), { tag: 'queued', ms: 10 }, { signal: controller.signal, timeoutMs: 10_000 });
    queued.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    await assert.rejects(queued, AbortError);
    assert.equal(await busy, 'busy1');
    // The slot is free now: a call behind it would have run by the time this one answers.
    assert.equal(await bus.call(rpc('slow'), { tag: 'after1', ms: 1 }), 'after1');
    assert.equal(await field('ran:queued'), null, 'the withdrawn call never ran');
  });

  test('a call whose caller gave up while it was queued is not started', async () => {
    const busy = bus.call(rpc('slow'), { tag: 'busy2', ms: 1500 }, { timeoutMs: 10_000 });
    await waitFor(() => field('ran:busy2'), 'the busy call to take the only slot');
    await assert.rejects(bus.call(rpc('slow'), { tag: 'expired', ms: 10 }, { timeoutMs: 500 }), RpcTimeoutError);
    assert.equal(await busy, 'busy2');
    assert.equal(await bus.call(rpc('slow'), { tag: 'after2', ms: 1 }), 'after2');
    assert.equal(await field('ran:expired'), null, 'the expired call never ran');
  });

  test('a handler reads its remaining time; a nested call without a timeout of its own inherits what is left', async () => {
    const { left, nestedLeft } = (await bus.call(rpc('remaining'), { nested: true }, { timeoutMs: 3000 })) as { left: number; nestedLeft: number | null };
    console.log(`# handler had ${left} ms left of 3000, its nested call ${nestedLeft} ms`);
    assert.ok(left > 1000 && left <= 3000, `the handler's remaining time comes from the caller's 3000 ms (${left})`);
    assert.ok(typeof nestedLeft === 'number' && nestedLeft <= left, `the nested call got no more than what was left (${nestedLeft} <= ${left}), not the 5000 ms default`);
  });

  test("past its deadline, the caller times out and the handler's signal aborts with DeadlineExceededError", async () => {
    await assert.rejects(bus.call(rpc('chain'), { tag: 'd1', depth: 0 }, { timeoutMs: 1000 }), RpcTimeoutError);
    assert.notEqual(await field('deadline:d1:0'), 'none', 'the handler knew its deadline');
    assert.equal(await waitFor(() => field('aborted:d1:0'), 'the handler to see its deadline pass', 10_000), 'DeadlineExceededError');
  });

  test('a nested call inherits the deadline: it gives up just before its parent must answer, so the parent can still answer in time', async () => {
    const answer = await bus.call(rpc('chain'), { tag: 'd2', depth: 1 }, { timeoutMs: 1500 }).catch((error: Error) => error.name);
    // The nested call's wait ends with the parent's deadline; the parent answers with its
    // fallback if it is quick enough, else the caller times out too.
    assert.ok(answer === 'nested failed: RpcTimeoutError' || answer === 'RpcTimeoutError', `answer: ${answer}`);
    for (const depth of [1, 0]) assert.notEqual(await field(`deadline:d2:${depth}`), 'none', `level ${depth} knew its deadline`);
    const inner = await waitFor(() => field('aborted:d2:0'), 'the inner handler to see its signal abort', 10_000);
    assert.ok(inner === 'DeadlineExceededError' || inner === 'AbortError', `inner aborted with ${inner}`);
  });

  test("a handler's call with an AbortSignal (in a worker thread) rejects at once and is withdrawn", async () => {
    const { name, waitedMs } = (await bus.call(rpc('call_and_abort'), { tag: 'w1', abortAfterMs: 300 }, { timeoutMs: 10_000 })) as { name: string; waitedMs: number };
    console.log(`# the worker's aborted call rejected after ${waitedMs} ms (signal at 300 ms)`);
    assert.equal(name, 'AbortError');
    assert.ok(waitedMs < 1300, `rejected when its signal fired (${waitedMs} ms)`);
    assert.equal(await waitFor(() => field('aborted:w1:0'), 'the called handler to see its signal abort', 10_000), 'AbortError');
  });
});
