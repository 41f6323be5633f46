// Execution deadlines: past the soft deadline the caller gets DeadlineExceededError; a handler
// stuck in synchronous code past the hard deadline has its worker terminated and replaced.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { DeadlineExceededError, createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner, tempDir, type RunnerProcess } from './helpers/runner-process.js';

const names = testNames('deadline');
const redis = new Redis(REDIS_URL);
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
let runner: RunnerProcess;

before(async () => {
  runner = await startRunner({
    modules: ['deadlines.ts'],
    serviceName: names.service,
    workers: 1,
    env: fixtureEnv(names, REDIS_URL, { FIXTURE_DEADLINE_MS: '300' }),
  });
  await runner.ready();
});

after(async () => {
  await bus.close();
  if (runner.alive) assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  await cleanUpRunners();
  await cleanUpNames(names);
  redis.disconnect();
});

const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => assert.fail('the call should have failed'),
    (e: unknown) => e as Error,
  );

test('an RPC awaiting past its deadline answers DeadlineExceededError; its worker goes on', async () => {
  const threadBefore = await bus.call(`${names.api}.ping`, {}, { timeoutMs: 10_000 });
  const error = await failureOf(bus.call(`${names.api}.nap`, { ms: 5000 }, { timeoutMs: 20_000 }));
  assert.ok(error instanceof DeadlineExceededError, `expected DeadlineExceededError, got ${error.name}: ${error.message}`);
  assert.match(error.message, /deadline of 300 ms/);
  assert.equal(await bus.call(`${names.api}.ping`, {}, { timeoutMs: 10_000 }), threadBefore, 'the same worker answers');
});

test('an RPC stuck in a synchronous loop past the hard deadline has its worker terminated and replaced', async () => {
  const threadBefore = await bus.call(`${names.api}.ping`, {}, { timeoutMs: 10_000 });
  // The file never appears: only terminating the thread ends this loop before its 30 s cap.
  const stopFile = join(await tempDir(), 'never');
  const error = await failureOf(bus.call(`${names.api}.spin`, { stopFile }, { timeoutMs: 20_000 }));
  assert.ok(error instanceof DeadlineExceededError, `expected DeadlineExceededError, got ${error.name}: ${error.message}`);
  // The log line travels through an asynchronous stdout destination, the error through Redis: either may come first.
  await runner.waitForLog((r) => /past its hard deadline/.test(r.msg), 5000, 'the termination to be logged');
  const threadAfter = await bus.call(`${names.api}.ping`, {}, { timeoutMs: 15_000 });
  assert.notEqual(threadAfter, threadBefore, 'a replacement worker answers the next call');
});

test('a listener past its deadline counts the event as failed (here: acknowledged and logged)', async () => {
  const { streamId } = await bus.fire(`${names.api}.chore`, { id: 'long', ms: 3000 });
  await runner.waitForLog(
    (r) => r.msg === 'event handler failed' && r['listener'] === 'slowpoke' && JSON.stringify(r['err']).includes('DeadlineExceededError'),
    15_000,
    'the deadline failure to be logged',
  );
  await waitFor(
    async () => !(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'slowpoke'))).includes(streamId),
    'the failed event to be acknowledged',
    10_000,
  );
  assert.equal((await readTally(redis, names))['started:long'], 1);
});
