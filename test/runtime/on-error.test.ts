// Each onError policy of a listener, run by the real runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBus, type Bus, type OnErrorPolicy } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames, type TestNames } from './helpers/bus-state.js';
import { startRunner, type RunnerProcess } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();

async function start(onError: OnErrorPolicy): Promise<{ names: TestNames; runner: RunnerProcess; bus: Bus; fire: (id: string, fail: boolean) => Promise<string> }> {
  const names = testNames('onerror');
  used.push(names);
  const runner = await startRunner({
    modules: ['failing-listener.ts'],
    serviceName: names.service,
    workers: 1,
    config: { events: { deadLetterStream: names.deadLetters, acknowledgementTimeoutMs: 60_000 }, runner: { shutdownGraceMs: 5000 } },
    env: fixtureEnv(names, REDIS_URL, { FIXTURE_ON_ERROR: JSON.stringify(onError) }),
  });
  await runner.ready();
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  const fire = async (id: string, fail: boolean) => (await bus.fire(`${names.api}.job`, { id, fail })).streamId;
  return { names, runner, bus, fire };
}

const tallyOf = (names: TestNames) => readTally(redis, names);

test("onError 'shutdown': the failed event stays unacknowledged and the process stops gracefully with exit code 1", async () => {
  const { names, runner, fire } = await start('shutdown');
  await fire('fine', false);
  await waitFor(async () => (await tallyOf(names))['done:fine'] === 1, 'the first event to be handled', 10_000);
  const failedId = await fire('broken', true);

  const exit = await runner.exit(30_000);
  assert.deepEqual(exit, { code: 1, signal: null }, runner.tail());
  assert.ok(runner.records.some((r) => r.msg.includes('onError: shutdown')), 'the reason is logged');
  assert.ok(runner.records.some((r) => r.msg === 'stopped' && r['exitCode'] === 1), 'it went through the graceful stop');
  assert.deepEqual(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'picky')), [failedId]);
  assert.equal((await tallyOf(names))['attempts:broken'], 1);
});

test("onError 'acknowledge-and-log': the failed event is logged and acknowledged, the listener goes on", async () => {
  const { names, runner, fire } = await start('acknowledge-and-log');
  await fire('broken', true);
  await fire('after', false);
  await waitFor(async () => (await tallyOf(names))['done:after'] === 1, 'the next event to be handled', 10_000);
  await waitFor(
    async () => (await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'picky'))).length === 0,
    'the failed event to be acknowledged',
    10_000,
  );
  const logged = runner.records.find((r) => r.msg === 'event handler failed' && r['listener'] === 'picky');
  assert.ok(logged, 'the failure is logged');
  assert.equal((await tallyOf(names))['attempts:broken'], 1);
  assert.equal(runner.alive, true);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test("onError 'stop-listener': that listener stops with its event unacknowledged; the others keep running", async () => {
  const { names, runner, fire } = await start('stop-listener');
  const failedId = await fire('broken', true);
  await runner.waitForLog((r) => r['listener'] === 'picky' && /listener stopped/.test(r.msg), 10_000, 'the listener to stop');

  for (const id of ['later-1', 'later-2']) await fire(id, false);
  await waitFor(async () => {
    const t = await tallyOf(names);
    return t['seen:later-1'] === 1 && t['seen:later-2'] === 1;
  }, 'the bystander to handle the later events', 10_000);

  const t = await tallyOf(names);
  assert.equal(t['attempts:later-1'], undefined, 'the stopped listener took no more events');
  assert.equal(t['attempts:later-2'], undefined, 'the stopped listener took no more events');
  assert.deepEqual(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'picky')), [failedId]);
  assert.deepEqual(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'bystander')), []);
  assert.equal(runner.alive, true);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test("onError retry: the handler is retried maxAttempts times, then the event goes to the dead-letter stream", async () => {
  const { names, runner, fire } = await start({ retry: { maxAttempts: 3, backoffMs: 20 } });
  const failedId = await fire('broken', true);
  await fire('after', false);
  await waitFor(async () => (await redis.xlen(names.deadLetters)) === 1, 'a dead letter', 15_000);
  await waitFor(async () => (await tallyOf(names))['done:after'] === 1, 'the next event to be handled', 10_000);

  assert.equal((await tallyOf(names))['attempts:broken'], 3);
  const [[, fields]] = (await redis.xrange(names.deadLetters, '-', '+')) as [[string, string[]]];
  const letter = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
  assert.equal(letter['stream'], streamOf(names.api));
  assert.equal(letter['stream_id'], failedId);
  assert.equal(letter['group'], groupOf(names.service, 'picky'));
  assert.match(letter['reason']!, /3 attempts failed.*job broken failed/);
  // The handler tallies "after" before the invoker acknowledges it: the ack follows within moments.
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'picky'))).length === 0, 'nothing pending', 5000);
  assert.equal(runner.records.filter((r) => r.msg === 'event handler failed; retrying').length, 2);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
