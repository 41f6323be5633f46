// SIGTERM: in-flight handlers finish and are acknowledged, nothing is lost across a restart;
// a second signal exits at once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { startRunner, tempDir, type RunnerOptions } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();

function setUp(graceMs: number) {
  const names = testNames('sigterm');
  used.push(names);
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  const options: RunnerOptions = {
    modules: ['slow-listener.ts'],
    serviceName: names.service,
    // A stable process name: the restarted runner is the same consumer and finishes what it had taken.
    processName: `${names.service}-p1`,
    workers: 1,
    config: { events: { batchSize: 5, acknowledgementTimeoutMs: 60_000 }, runner: { shutdownGraceMs: graceMs } },
    env: fixtureEnv(names),
  };
  const handled = async () => Object.entries(await readTally(redis, names)).filter(([k]) => k.startsWith('handled:'));
  return { names, bus, options, handled };
}

test('SIGTERM with events in flight: exit 0, every handled event acknowledged, none lost after a restart', async () => {
  const { names, bus, options, handled } = setUp(10_000);
  const total = 30;
  let runner = await startRunner(options);
  await runner.ready();
  const ids = Array.from({ length: total }, (_, i) => `e${i}`);
  for (const id of ids) await bus.fire(`${names.api}.item`, { id, ms: 100 });

  await waitFor(async () => (await handled()).length >= 5, 'some events to be handled', 20_000);
  const exit = await runner.stop(30_000);
  assert.deepEqual(exit, { code: 0, signal: null }, runner.tail());
  const handledBefore = await handled();
  assert.ok(handledBefore.length < total, 'the SIGTERM came while events were still waiting (raise the total if this fails)');
  assert.deepEqual(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'steady')), [], 'everything handled was acknowledged');

  runner = await startRunner(options);
  await runner.ready();
  await waitFor(async () => (await handled()).length === total, 'every event to be handled after the restart', 30_000);
  assert.deepEqual(await runner.stop(30_000), { code: 0, signal: null }, runner.tail());

  const counts = Object.fromEntries(await handled());
  for (const id of ids) assert.equal(counts[`handled:${id}`], 1, `event ${id} handled ${counts[`handled:${id}`] ?? 0} times`);
  assert.deepEqual(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'steady')), []);
});

for (const mode of ['workers', 'inline'] as const) {
  test(`SIGTERM with a batch longer than the grace period (${mode}): the events of it that finished are acknowledged, the rest stay pending`, async () => {
    const { names, bus, options, handled } = setUp(1000);
    const total = 20;
    const { workers: _workers, ...inline } = options;
    const oneBatch: RunnerOptions = {
      ...(mode === 'inline' ? { ...inline, args: ['--inline'] } : options),
      config: { ...options.config, events: { batchSize: total, acknowledgementTimeoutMs: 60_000 } },
    };
    // A first run creates the consumer group; the events fired while no runner is up arrive in the next run's first read, one batch.
    let runner = await startRunner(oneBatch);
    await runner.ready();
    assert.deepEqual(await runner.stop(30_000), { code: 0, signal: null }, runner.tail());
    const ids = Array.from({ length: total }, (_, i) => `e${i}`);
    const streamIds = new Map<string, string>();
    for (const id of ids) streamIds.set(id, (await bus.fire(`${names.api}.item`, { id, ms: 200 })).streamId);

    runner = await startRunner(oneBatch);
    await runner.ready();
    await waitFor(async () => (await handled()).length >= 2, 'some events of the batch to be handled', 20_000);
    assert.deepEqual(await runner.stop(30_000), { code: 0, signal: null }, runner.tail());

    const done = new Set((await handled()).map(([key]) => key.slice('handled:'.length)));
    const pending = new Set(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'steady')));
    assert.ok(done.size < total, 'the grace period ended with the batch still running (raise the total if this fails)');
    for (const id of ids) {
      // Acknowledged means handled; the event running when the grace period ended may have finished after it, unacknowledged.
      if (!pending.has(streamIds.get(id)!)) assert.ok(done.has(id), `${id} was acknowledged without being handled`);
    }
    const handledPending = ids.filter((id) => done.has(id) && pending.has(streamIds.get(id)!));
    assert.ok(handledPending.length <= 1, `handled events left pending: ${handledPending.join(', ')} (at most the one running when the grace period ended)`);
  });
}

test('a second SIGTERM exits at once, leaving the unfinished event pending for later', async () => {
  const { names, bus, options } = setUp(60_000);
  const runner = await startRunner(options);
  await runner.ready();
  const { streamId } = await bus.fire(`${names.api}.item`, { id: 'forever', ms: 120_000 });
  await waitFor(async () => (await readTally(redis, names))['started:forever'] === 1, 'the handler to start', 10_000);

  runner.signal('SIGTERM');
  await runner.waitForLog((r) => /signal received/.test(r.msg), 10_000, 'the first signal to be taken');
  runner.signal('SIGTERM');
  // The grace period is 60 s and the handler needs 120 s: only the second signal ends it within this bound.
  const exit = await runner.exit(15_000);
  assert.deepEqual(exit, { code: 130, signal: null }, runner.tail());
  assert.ok(runner.records.some((r) => /second signal/.test(r.msg)));
  assert.deepEqual(await pendingIds(redis, streamOf(names.api), groupOf(names.service, 'steady')), [streamId]);
});

test('SIGTERM while the modules are still loading: a clean stop with exit 0, not a start failure', async () => {
  const names = testNames('sigterm');
  used.push(names);
  const goFile = join(await tempDir(), 'never');
  const runner = await startRunner({
    modules: ['slow-start.ts'],
    serviceName: names.service,
    workers: 1,
    env: fixtureEnv(names, REDIS_URL, { FIXTURE_GO_FILE: goFile }),
  });
  await runner.waitForLog((r) => r.msg === 'importing', 30_000, 'the worker to be importing');
  runner.signal('SIGTERM');
  const exit = await runner.exit(20_000);
  assert.deepEqual(exit, { code: 0, signal: null }, runner.tail());
  assert.ok(!runner.records.some((r) => r.msg === 'lightbus is running'));
  assert.deepEqual(runner.records.filter((r) => r.level >= 50), [], 'nothing is reported as an error');
  assert.equal(runner.stderr.trim(), '');
});
