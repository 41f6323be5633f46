/**
 * One suite for the runtime, run by `lightbus run` (the real bin/, in a child process) with each
 * executor: worker threads, and `--inline` (handlers in the invoker's thread). The invoker
 * cannot tell them apart, so the same service must behave the same under both: RPCs served,
 * nested RPCs through one API with one slot, events handled and acknowledged, errors as data,
 * tasks and hooks run, a clean stop. One runner per executor serves every test of the suite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, RemoteError } from '../../../src/index.js';
import { waitFor } from '../../helpers/wait.js';
import { cleanUpNames, fixtureEnv, groupOf, pendingCount, readTally, REDIS_URL, streamOf, testNames } from './bus-state.js';
import { cleanUpRunners, startRunner, type RunnerProcess } from './runner-process.js';

export interface ExecutorUnderTest {
  /** How the suite is named: `worker threads`, `--inline`. */
  name: string;
  /** Arguments that pick the executor. */
  args: string[];
  /** What the `lightbus is running` record says of the threads. */
  workers: number;
  /** Whether handlers run on the main thread. */
  mainThread: boolean;
}

export function runtimeSuite(executor: ExecutorUnderTest): void {
  describe(`lightbus run with ${executor.name}`, () => {
    const names = testNames('suite');
    const redis = new Redis(REDIS_URL);
    const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
    let runner: RunnerProcess;
    let running: Record<string, unknown>;

    before(async () => {
      runner = await startRunner({
        modules: ['runtime-suite.ts'],
        serviceName: names.service,
        // One slot in all: a nested call can only finish if the slot of its caller is lent out.
        config: { logLevel: 'info', runner: { concurrency: 1 } },
        env: fixtureEnv(names),
        args: executor.args,
      });
      running = await runner.ready();
    });

    after(async () => {
      await bus.close();
      redis.disconnect();
      await cleanUpRunners();
      await cleanUpNames(names);
    });

    test('starts with the executor asked for, and runs the onStart hook once', async () => {
      assert.equal(running['workers'], executor.workers);
      const where = (await bus.call(`${names.api}.whereami`, {})) as { mainThread: boolean };
      assert.equal(where.mainThread, executor.mainThread);
      assert.equal((await readTally(redis, names))['started'], 1);
    });

    test('serves an RPC', async () => {
      assert.equal(await bus.call(`${names.api}.echo`, { text: 'hello' }), 'hello');
    });

    test('a chain of 20 nested RPCs through its own API completes with a single slot', async () => {
      assert.equal(await bus.call(`${names.api}.depth`, { n: 20 }, { timeoutMs: 30_000 }), 20);
    });

    test("a handler's error reaches the caller as data: its class name and message", async () => {
      await assert.rejects(bus.call(`${names.api}.fail`, {}), (error: unknown) => {
        assert.ok(error instanceof RemoteError, String(error));
        assert.equal(error.remoteName, 'OutOfStock');
        assert.match(error.message, /no more widgets/);
        return true;
      });
    });

    test('handles every event once and acknowledges it; a failing one is logged and acknowledged by its policy', async () => {
      for (const id of ['a', 'b', 'bad', 'c']) await bus.fire(`${names.api}.ping`, { id });
      const tally = await waitFor(async () => {
        const t = await readTally(redis, names);
        return t['heard:a'] && t['heard:b'] && t['heard:c'] ? t : undefined;
      }, 'the three good pings to be heard', 15_000);
      assert.deepEqual([tally['heard:a'], tally['heard:b'], tally['heard:c']], [1, 1, 1]);
      await runner.waitForLog((r) => r.msg === 'event handler failed' && r['listener'] === 'ears', 10_000, 'the bad ping to be logged');
      await waitFor(async () => (await pendingCount(redis, streamOf(names.api), groupOf(names.service, 'ears'))) === 0, 'nothing pending', 10_000);
    });

    test('runs a scheduled task again and again', async () => {
      const first = (await readTally(redis, names))['tick'] ?? 0;
      await waitFor(async () => ((await readTally(redis, names))['tick'] ?? 0) >= first + 2, 'two more ticks', 10_000);
    });

    test('stops on SIGTERM with exit 0 and no stray output', async () => {
      const exit = await runner.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, runner.tail());
      assert.deepEqual(runner.invalidLines, []);
    });
  });
}
