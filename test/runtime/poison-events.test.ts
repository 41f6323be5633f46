// An event whose handler kills its worker thread (process.exit, out of memory, a native crash)
// must not be redelivered forever: past runner.maxCrashRedeliveries (default 3) it fails with
// WorkerCrashedError and the listener's onError applies. Only that event is blamed: the events
// of its batch finished before it are acknowledged, those after it run once, elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBus, type OnErrorPolicy } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames, type TestNames } from './helpers/bus-state.js';
import { startRunner, type RunnerProcess } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();
const EVENTS = 10;
const POISON = 4;
/** The default of runner.maxCrashRedeliveries: the poison event runs once, then 3 more times. */
const RUNS_OF_POISON = 1 + 3;
const ids = Array.from({ length: EVENTS }, (_, i) => (i === POISON ? 'poison' : `sibling-${i}`));

/** Fires the batch before the runner starts (the listener reads from `0`, so it gets one batch), then starts the runner. */
async function start(onError: OnErrorPolicy): Promise<{ names: TestNames; runner: RunnerProcess; poisonStreamId: string }> {
  const names = testNames('poison');
  used.push(names);
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  let poisonStreamId = '';
  for (const id of ids) {
    const { streamId } = await bus.fire(`${names.api}.job`, { id, poison: id === 'poison' });
    if (id === 'poison') poisonStreamId = streamId;
  }
  const runner = await startRunner({
    modules: ['poison-batch.ts'],
    serviceName: names.service,
    workers: 1,
    config: { events: { deadLetterStream: names.deadLetters, acknowledgementTimeoutMs: 60_000 }, runner: { shutdownGraceMs: 5000 } },
    env: fixtureEnv(names, REDIS_URL, { FIXTURE_ON_ERROR: JSON.stringify(onError) }),
  });
  return { names, runner, poisonStreamId };
}

async function siblingsHandledOnce(names: TestNames): Promise<void> {
  const siblings = ids.filter((id) => id !== 'poison');
  await waitFor(async () => {
    const t = await readTally(redis, names);
    return siblings.every((id) => t[`done:${id}`] === 1);
  }, 'every sibling of the poison event to be handled', 30_000);
  const t = await readTally(redis, names);
  for (const id of siblings) assert.equal(t[`runs:${id}`], 1, `${id} ran once`);
}

const respawns = (runner: RunnerProcess) => runner.records.filter((r) => /replacing it$/.test(r.msg)).length;
/** Deaths of the quarantine thread, where an event that crashed a worker runs again alone. */
const quarantineDeaths = (runner: RunnerProcess) => runner.records.filter((r) => r['quarantine'] === true).length;

test('a poison event under retry goes to the dead-letter stream after the crash limit; its siblings are handled once and acknowledged', async () => {
  const { names, runner, poisonStreamId } = await start({ retry: { maxAttempts: 2, backoffMs: 10 } });
  await runner.ready();
  await waitFor(async () => (await redis.xlen(names.deadLetters)) === 1, 'the poison event to be dead-lettered', 40_000);
  await siblingsHandledOnce(names);
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'batch'))).length === 0, 'nothing pending', 10_000);

  assert.equal((await readTally(redis, names))['runs:poison'], RUNS_OF_POISON);
  assert.equal((await readTally(redis, names))['done:poison'], undefined);
  const [[, fields]] = (await redis.xrange(names.deadLetters, '-', '+')) as [[string, string[]]];
  const letter = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
  assert.equal(letter['stream_id'], poisonStreamId);
  assert.match(letter['reason']!, /WorkerCrashedError.*4 times/);
  assert.equal(respawns(runner), 1, 'the pool thread it killed first is replaced once');
  assert.equal(quarantineDeaths(runner), RUNS_OF_POISON - 1, 'its runs again kill the quarantine thread only');
  await runner.waitForLog((r) => /crashed its worker 4 times/.test(r.msg) && r['streamId'] === poisonStreamId, 5000, 'the failure to be logged');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test("the events after a poison event in its batch are handled right after its first crash, not behind its redeliveries, and no crash delays a thread's replacement", async () => {
  const { names, runner } = await start({ retry: { maxAttempts: 2, backoffMs: 10 } });
  await runner.ready();
  await waitFor(async () => (await redis.xlen(names.deadLetters)) === 1, 'the poison event to be dead-lettered', 40_000);
  await siblingsHandledOnce(names);
  const t = await readTally(redis, names);
  const seen = Object.fromEntries(ids.filter((id) => id !== 'poison').map((id) => [id, t[`poisonRunsSeen:${id}`]]));
  const expected = Object.fromEntries(ids.filter((id) => id !== 'poison').map((id, i) => [id, i < POISON ? 0 : 1]));
  assert.deepEqual(seen, expected, 'how often the poison event had run when each sibling was handled');
  // The poison event is blamed for each death and bounded by runner.maxCrashRedeliveries: no crash-loop backoff.
  const delays = runner.records.filter((r) => /replacing it$/.test(r.msg)).map((r) => r['respawnInMs']);
  assert.deepEqual(delays, [0], 'the one replacement of a pool thread starts at once');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test("a poison event under 'shutdown' stops the process with exit code 1 after the crash limit", async () => {
  const { names, runner, poisonStreamId } = await start('shutdown');
  const exit = await runner.exit(60_000);
  assert.deepEqual(exit, { code: 1, signal: null }, runner.tail());
  assert.equal((await readTally(redis, names))['runs:poison'], RUNS_OF_POISON);
  assert.ok(respawns(runner) <= RUNS_OF_POISON, `at most one replacement per crash (${respawns(runner)})`);
  const pending = await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'batch'));
  assert.ok(pending.includes(poisonStreamId), 'the poison event stays unacknowledged');
  const t = await readTally(redis, names);
  for (const id of ids.slice(0, POISON)) assert.equal(t[`runs:${id}`], 1, `${id}, before the poison event, ran once`);
});

test("a poison event under 'acknowledge-and-log' is acknowledged and logged after the crash limit", async () => {
  const { names, runner, poisonStreamId } = await start('acknowledge-and-log');
  await runner.ready();
  await siblingsHandledOnce(names);
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'batch'))).length === 0, 'nothing pending', 40_000);
  assert.equal((await readTally(redis, names))['runs:poison'], RUNS_OF_POISON);
  assert.equal(await redis.xlen(names.deadLetters), 0);
  // The log line goes to stdout through an asynchronous destination and the acknowledgement to
  // Redis: nothing orders the two for an onlooker, so the line may come a moment after.
  const logged = await runner.waitForLog((r) => /crashed its worker/.test(r.msg) && r['streamId'] === poisonStreamId, 10_000, 'the failure is logged');
  assert.equal(logged['listener'], 'batch');
  assert.equal(respawns(runner), 1);
  assert.equal(quarantineDeaths(runner), RUNS_OF_POISON - 1);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('a batch past its hard deadline fails the event that wedged its thread, not the first of the batch', async () => {
  const names = testNames('wedge');
  used.push(names);
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  const batch = ['s0', 's1', 'wedge', 's3', 's4'];
  let wedgeStreamId = '';
  for (const id of batch) {
    const { streamId } = await bus.fire(`${names.api}.job`, { id, wedge: id === 'wedge' });
    if (id === 'wedge') wedgeStreamId = streamId;
  }
  const runner = await startRunner({
    modules: ['wedged-batch.ts'],
    serviceName: names.service,
    workers: 1,
    config: { events: { deadLetterStream: names.deadLetters, acknowledgementTimeoutMs: 60_000 } },
    env: fixtureEnv(names),
  });
  await runner.ready();
  const siblings = batch.filter((id) => id !== 'wedge');
  await waitFor(async () => {
    const t = await readTally(redis, names);
    return siblings.every((id) => t[`done:${id}`] === 1);
  }, 'every sibling of the wedged event to be handled', 30_000);
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'wedged'))).length === 0, 'nothing pending', 10_000);
  const letters = (await redis.xrange(names.deadLetters, '-', '+')) as Array<[string, string[]]>;
  const ids = letters.map(([, fields]) => fields[fields.indexOf('stream_id') + 1]);
  assert.deepEqual(ids, [wedgeStreamId], 'only the wedged event is dead-lettered');
  assert.match(letters[0]![1][letters[0]![1].indexOf('reason') + 1]!, /DeadlineExceededError/);
  const t = await readTally(redis, names);
  assert.equal(t['runs:wedge'], 1, 'the wedged event is not run again (it would wedge the next thread)');
  for (const id of siblings) assert.equal(t[`runs:${id}`], 1, `${id} ran once`);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test("a poison event's runs again happen on a thread of their own: they never kill the thread under another listener's batch", async () => {
  const names = testNames('bystander');
  used.push(names);
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  const batch = Array.from({ length: 12 }, (_, i) => (i === 1 ? 'poison' : `e${i}`));
  for (const id of batch) await bus.fire(`${names.api}.job`, { id, poison: id === 'poison' });
  const runner = await startRunner({
    modules: ['poison-beside-slow.ts'],
    serviceName: names.service,
    workers: 1,
    config: { events: { deadLetterStream: names.deadLetters, acknowledgementTimeoutMs: 60_000 } },
    env: fixtureEnv(names),
  });
  await runner.ready();
  await waitFor(async () => (await redis.xlen(names.deadLetters)) === 1, 'the poison event to be dead-lettered', 40_000);
  const bystanders = batch.filter((id) => id !== 'poison');
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'bystander'))).length === 0, 'the bystander to finish', 30_000);
  const t = await readTally(redis, names);
  const extraRuns = bystanders.reduce((sum, id) => sum + (t[`bystander:${id}`] ?? 0) - 1, 0);
  // The poison event's first run kills the one pool thread, and the bystander's running event
  // with it (that one runs again); its 3 runs again must not.
  assert.ok(extraRuns <= 1, `bystander events ran ${extraRuns} extra times (at most 1: the first crash)`);
  assert.ok(bystanders.every((id) => (t[`bystander:${id}`] ?? 0) >= 1), 'every bystander event ran');
  assert.equal(respawns(runner), 1, 'the pool thread is replaced once');
  assert.equal(quarantineDeaths(runner), RUNS_OF_POISON - 1);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
