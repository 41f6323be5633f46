// Worker log records reach the runner's stdout as JSON lines with the worker's id: whole,
// one object per line, none lost, in order per worker; also when stdout is slow at exit.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createBus } from '../../src/index.js';
import { cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner, type LogRecord } from './helpers/runner-process.js';

const names = testNames('logs');
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await cleanUpNames(names);
});

const chatterOf = (records: LogRecord[], tag: string) => records.filter((r) => r.msg === 'chatter' && r['tag'] === tag);
const upTo = (count: number) => Array.from({ length: count }, (_, i) => i);

test('worker log records reach stdout as JSON lines with a worker field, none lost or torn', async () => {
  const runner = await startRunner({ modules: ['chatty.ts'], serviceName: names.service, workers: 2, env: fixtureEnv(names) });
  await runner.ready();
  const count = 400;
  const tags = ['a', 'b', 'c', 'd'];
  // Large records from both workers at once: a torn or interleaved line would not parse.
  await Promise.all(tags.map((tag) => bus.call(`${names.api}.chatter`, { tag, count, size: 4096 }, { timeoutMs: 30_000 })));
  await runner.waitForLogs((r) => r.msg === 'chatter', count * tags.length, 20_000, 'every chatter record');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());

  assert.deepEqual(runner.invalidLines, [], 'every stdout line is one JSON object');
  const workers = new Set(runner.records.filter((r) => r.msg === 'chatter').map((r) => r['worker']));
  assert.deepEqual([...workers].sort(), [1, 2], 'both workers logged, each with its id');
  for (const tag of tags) {
    const records = chatterOf(runner.records, tag);
    assert.deepEqual(records.map((r) => r['seq']), upTo(count), `the records of call ${tag} are all there, once each, in order`);
    assert.equal(new Set(records.map((r) => r['worker'])).size, 1, 'one call, one worker');
    assert.ok(records.every((r) => (r['payload'] as string).length === 4096));
  }
  // The main thread's own records are on the same output, without a worker field.
  assert.ok(runner.records.some((r) => r.msg === 'stopped' && r['worker'] === undefined));
});

test(
  'log records still buffered when the runner stops are written before it exits, even when stdout is slow',
  async () => {
    const runner = await startRunner({ modules: ['chatty.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
    await runner.ready();
    // A reader that stopped reading: the pipe fills, the runner must buffer and retry its writes.
    runner.pauseOutput();
    const count = 200;
    await bus.call(`${names.api}.chatter`, { tag: 'slow', count, size: 4096 }, { timeoutMs: 30_000 });
    runner.signal('SIGTERM');
    await sleep(1000);
    runner.resumeOutput();
    assert.deepEqual(await runner.exit(30_000), { code: 0, signal: null }, runner.tail());
    assert.deepEqual(runner.invalidLines, []);
    assert.deepEqual(chatterOf(runner.records, 'slow').map((r) => r['seq']), upTo(count), 'no record was lost at exit');
  },
);
