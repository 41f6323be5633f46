// Scheduled tasks run once per process (not once per worker), never overlap themselves, and
// cron schedules with seconds run.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, readTally, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const names = testNames('tasks');
const redis = new Redis(REDIS_URL);

after(async () => {
  await cleanUpRunners();
  await cleanUpNames(names);
  redis.disconnect();
});

test('every() runs once per process and never overlaps itself; a cron schedule with seconds runs', async () => {
  const runner = await startRunner({ modules: ['scheduled.ts'], serviceName: names.service, workers: 2, env: fixtureEnv(names) });
  const running = await runner.ready();
  assert.deepEqual(running['tasks'], ['tick', 'quick', 'everySecond']);

  // A window measured by the test itself: once per process, `quick` runs at most once per 200 ms
  // in it (plus one at each edge); once per worker it would run about twice as often.
  await waitFor(async () => (await readTally(redis, names))['quick:runs'], 'the first run of quick', 10_000);
  const startedAt = Date.now();
  const runsBefore = (await readTally(redis, names))['quick:runs']!;
  await sleep(1200);
  const runsAfter = (await readTally(redis, names))['quick:runs']!;
  const elapsed = Date.now() - startedAt;
  assert.ok(runsAfter - runsBefore <= Math.floor(elapsed / 200) + 2, `quick ran ${runsAfter - runsBefore} times in ${elapsed} ms`);
  assert.ok(runsAfter > runsBefore, 'quick kept running');

  await waitFor(async () => ((await readTally(redis, names))['tick:runs'] ?? 0) >= 4, 'four runs of tick', 15_000);
  await waitFor(async () => ((await readTally(redis, names))['cron:runs'] ?? 0) >= 2, 'two runs of the cron task', 10_000);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());

  const tally = await readTally(redis, names);
  assert.equal(tally['tick:overlaps'], undefined, 'a run of tick started while another was going');
  assert.equal(tally['tick:running'], 0, 'every run of tick finished before the stop');
  assert.ok(runner.records.some((r) => r['task'] === 'tick' && /skipped/.test(r.msg)), 'runs due while one is going are skipped, with a log line');
});
