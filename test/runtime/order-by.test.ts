// orderBy with real worker threads and Redis: events of one key run one at a time in stream
// order, across reads, batches and a crash redelivery, while events of different keys overlap.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, testNames, type TestNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const redis = new Redis(REDIS_URL);
const used: TestNames[] = [];

after(async () => {
  await cleanUpRunners();
  for (const names of used) await cleanUpNames(names);
  redis.disconnect();
});

interface Run {
  key: string;
  seq: number;
  start: number;
  end: number;
  thread: number;
  streamId: string;
}

async function runs(names: TestNames): Promise<Run[]> {
  const raw = await redis.hgetall(names.tally);
  return Object.entries(raw)
    .filter(([field]) => field.startsWith('run:'))
    .map(([field, value]) => {
      const [, key, seq] = field.split(':');
      return { key: key!, seq: Number(seq), ...(JSON.parse(value) as Omit<Run, 'key' | 'seq'>) };
    });
}

const streamOrder = (a: Run, b: Run) => {
  const [am, as] = a.streamId.split('-').map(Number);
  const [bm, bs] = b.streamId.split('-').map(Number);
  return am! - bm! || as! - bs!;
};

/** Per key: every run started after the one before it (in stream order) had ended. */
function assertKeyedOrder(all: Run[]): void {
  for (const key of new Set(all.map((run) => run.key))) {
    const inStream = all.filter((run) => run.key === key).sort(streamOrder);
    for (let i = 1; i < inStream.length; i++) {
      const [before, next] = [inStream[i - 1]!, inStream[i]!];
      assert.ok(next.start >= before.end, `key ${key}: seq ${next.seq} started ${(before.end - next.start).toFixed(2)} ms before seq ${before.seq} ended`);
    }
  }
}

/**
 * Runs the fixture on what `fire` fires; with `backlog`, the group is created first and the
 * events wait in Redis until the runner starts again, so its first reads are full batches.
 */
async function runOrdered(names: TestNames, fire: (bus: ReturnType<typeof createBus>) => Promise<number>, backlog = false): Promise<Run[]> {
  used.push(names);
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  const start = () =>
    startRunner({
      modules: ['ordered-listener.ts'],
      serviceName: names.service,
      workers: 2,
      // Small batches: one key's events span several reads and batches.
      config: { events: { batchSize: 3 } },
      env: fixtureEnv(names),
    });
  let runner = await start();
  try {
    await runner.ready();
    let total: number;
    if (backlog) {
      assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
      total = await fire(bus);
      runner = await start();
      await runner.ready();
    } else {
      total = await fire(bus);
    }
    await waitFor(async () => (await runs(names)).length === total, `all ${total} events handled`, 30_000);
    const counts = Object.entries(await redis.hgetall(names.tally)).filter(([field]) => field.startsWith('runs:'));
    assert.deepEqual(counts.filter(([, n]) => n !== '1'), [], 'every event ran to its end once');
    assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
    return await runs(names);
  } finally {
    await bus.close();
  }
}

test('keyed order holds under concurrency while different keys overlap', async () => {
  const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
  const perKey = 12;
  const all = await runOrdered(testNames('orderby'), async (bus) => {
    // Keys interleaved, waiting in Redis: every read holds several events of each key.
    const api = usedApi();
    await Promise.all(Array.from({ length: perKey }, (_, seq) => keys.map((key) => bus.fire(`${api}.item`, { key, seq, ms: 15 }))).flat());
    return keys.length * perKey;
  }, true);
  assertKeyedOrder(all);
  const overlapping = all.some((a) => all.some((b) => a.key !== b.key && a.start < b.end && b.start < a.end));
  assert.ok(overlapping, 'events of different keys ran at the same time');
  assert.ok(new Set(all.map((run) => run.thread)).size >= 2, 'both worker threads ran events');
});

test('events after one that crashed its thread wait for its redelivery, in order', async () => {
  const all = await runOrdered(testNames('orderby_crash'), async (bus) => {
    const api = usedApi();
    // k0 seq 0 kills its thread once; k0's later events are in its batch and must not overtake its run again.
    await bus.fire(`${api}.item`, { key: 'k0', seq: 0, ms: 5, crash: true });
    await Promise.all(Array.from({ length: 8 }, (_, i) => [bus.fire(`${api}.item`, { key: 'k0', seq: i + 1, ms: 5 }), bus.fire(`${api}.item`, { key: 'k1', seq: i, ms: 5 })]).flat());
    return 17;
  }, true);
  assertKeyedOrder(all);
  const crashed = all.find((run) => run.key === 'k0' && run.seq === 0)!;
  assert.ok(all.filter((run) => run.key === 'k0' && run.seq > 0).every((run) => run.start >= crashed.end), 'no later k0 event ran before the crashed one ran again');
});

function usedApi(): string {
  return used.at(-1)!.api;
}
