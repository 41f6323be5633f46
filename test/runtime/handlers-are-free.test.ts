// Handlers are free: CPU-bound work delays only its own worker, and a handler may start its
// own worker threads, child processes and timers.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBus } from '../../src/index.js';
import { cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner, tempDir } from './helpers/runner-process.js';

const burner = testNames('burn');
const free = testNames('free');
const sibling = testNames('sibling');
const bus = createBus({ config: { serviceName: burner.caller, logLevel: 'silent' } });

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await cleanUpNames(burner);
  await cleanUpNames(free);
  await cleanUpNames(sibling);
});

test('a CPU-bound handler delays only its own worker: other RPCs keep being answered while it burns', async () => {
  const runner = await startRunner({ modules: ['cpu-burner.ts'], serviceName: burner.service, workers: 2, env: fixtureEnv(burner) });
  await runner.ready();
  const stopFile = join(await tempDir(), 'stop-burning');
  let burnSettled = false;
  const burning = bus.call(`${burner.api}.burn`, { stopFile }, { timeoutMs: 30_000 }).finally(() => (burnSettled = true));
  const started = await runner.waitForLog((r) => r.msg === 'burning', 10_000, 'the burn to start');

  // The burn cannot end before the file exists, so every ping answered here was served while it burned.
  const threads = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const pong = (await bus.call(`${burner.api}.ping`, {}, { timeoutMs: 10_000 })) as { thread: number };
    threads.add(pong.thread);
  }
  assert.equal(burnSettled, false, 'the burn ended before it was told to');
  assert.ok(!threads.has(started['thread'] as number), 'a ping was answered by the burning thread');

  await writeFile(stopFile, '');
  const burnt = (await burning) as { thread: number; spins: number };
  assert.equal(burnt.thread, started['thread']);
  assert.ok(burnt.spins > 0);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('RPCs that reach a worker with a CPU-bound one, ahead of it, are answered without waiting for it', async () => {
  const runner = await startRunner({ modules: ['cpu-burner.ts'], serviceName: sibling.service, workers: 1, env: fixtureEnv(sibling) });
  await runner.ready();
  const stopFile = join(await tempDir(), 'stop-burning');
  // Sent in one tick: the server reads them together and hands them to its one worker in order.
  const pings = [bus.call(`${sibling.api}.ping`, {}, { timeoutMs: 10_000 }), bus.call(`${sibling.api}.ping`, {}, { timeoutMs: 10_000 })];
  const burning = bus.call(`${sibling.api}.burn`, { stopFile }, { timeoutMs: 30_000 });
  // The burn cannot end before the file exists: answers that arrive now did not wait for it.
  await Promise.all(pings);
  await writeFile(stopFile, '');
  await burning;
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('a handler may start its own worker thread, child process and timer', async () => {
  const runner = await startRunner({ modules: ['own-threads.ts'], serviceName: free.service, workers: 1, env: fixtureEnv(free) });
  await runner.ready();
  const result = await bus.call(`${free.api}.use_everything`, { n: 7 }, { timeoutMs: 20_000 });
  assert.deepEqual(result, { fromThread: 49, fromChild: 343, fromTimer: 14 });
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
