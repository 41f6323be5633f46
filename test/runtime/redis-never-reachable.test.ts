// `lightbus run` against a Redis that never answers: it says what it waits for, and the first
// SIGTERM stops it within the grace period (the start-up waits on Redis, the stop must not).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';
import { uniqueName } from '../helpers/wait.js';
import { closedPort } from '../helpers/ports.js';

const GRACE_MS = 2000;
/** Room for the process to write its last logs and end its threads on a busy 2-core machine. */
const EXIT_BOUND_MS = GRACE_MS + 8000;


after(cleanUpRunners);

test('Redis never reachable: "still waiting for Redis" every few seconds, and the first SIGTERM exits within the grace', async () => {
  const port = await closedPort();
  const name = uniqueName('unreachable');
  const runner = await startRunner({
    modules: ['echo-and-listen.ts'],
    serviceName: name,
    workers: 1,
    config: { redis: { url: `redis://ops:hunter2@127.0.0.1:${port}/0` }, runner: { shutdownGraceMs: GRACE_MS } },
    env: { FIXTURE_API: name, FIXTURE_TALLY_URL: `redis://127.0.0.1:${port}/0` },
  });
  const waiting = await runner.waitForLogs((r) => r.msg.startsWith('still waiting for Redis'), 2, 30_000, 'two "still waiting" notices');
  assert.match(waiting[0]!.msg, new RegExp(`^still waiting for Redis at redis://ops:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 \\(\\d+ s\\)$`));
  assert.ok(!runner.stdout.includes('hunter2'), 'the password never appears');
  const [first, second] = waiting.map((r) => Number(/\((\d+) s\)/.exec(r.msg)![1]));
  assert.ok(second! > first!, `the notice counts the seconds waited (${first} then ${second})`);

  runner.signal('SIGTERM');
  const exit = await runner.exit(EXIT_BOUND_MS);
  assert.deepEqual(exit, { code: 0, signal: null }, runner.tail());
  assert.ok(runner.records.some((r) => r.msg === 'stopped'), runner.tail());
});
