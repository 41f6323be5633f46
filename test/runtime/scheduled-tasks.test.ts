// Scheduled tasks run once per process (not once per worker), never overlap themselves, and
// cron schedules with seconds run.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, readTally, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';
import { jsonLines, runCli } from '../inspect/cli-runner.js';

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

test('inspect processes shows the tasks of a process, with their schedules and next run times', async () => {
  const runner = await startRunner({ modules: ['scheduled.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
  await runner.ready();
  const result = await runCli(['inspect', 'processes', '--service', names.service, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const [row] = jsonLines(result.stdout);
  assert.ok(row, `a heartbeat of ${names.service}:\n${result.stdout}`);
  const tasks = row['tasks'] as Array<{ name: string; everyMs?: number; cron?: string; nextRunAt?: string; running: boolean }>;
  assert.deepEqual(
    tasks.map(({ name, everyMs, cron }) => ({ name, everyMs, cron })),
    [
      { name: 'tick', everyMs: 200, cron: undefined },
      { name: 'quick', everyMs: 200, cron: undefined },
      { name: 'everySecond', everyMs: undefined, cron: '* * * * * *' },
    ],
  );
  for (const task of tasks) assert.ok(!Number.isNaN(Date.parse(task.nextRunAt ?? '')), `${task.name} has a next run time: ${task.nextRunAt}`);

  const table = await runCli(['inspect', 'processes', '--service', names.service]);
  assert.match(table.stdout, /TASKS/);
  assert.match(table.stdout, /everySecond \(cron \* \* \* \* \* \*/);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
