// No "not ready": calls and fires made at import time and from onStart wait until they can be served.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { REDIS_URL, cleanUpNames, fixtureEnv, readTally, streamOf, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';
import { waitFor } from '../helpers/wait.js';

const names = testNames('early');
const redis = new Redis(REDIS_URL);

after(async () => {
  await cleanUpRunners();
  await cleanUpNames(names);
  redis.disconnect();
});

test('calls and fires made at import time and in onStart wait until they can be served', async () => {
  const runner = await startRunner({ modules: ['early-calls.ts'], serviceName: names.service, workers: 2, env: fixtureEnv(names) });
  await runner.ready();
  const tally = await waitFor(async () => {
    const t = await readTally(redis, names);
    const importCalls = Object.keys(t).filter((k) => k.startsWith('import-call:'));
    return importCalls.length === 2 && t['start-fire'] !== undefined ? await redis.hgetall(names.tally) : undefined;
  }, 'every early call and fire to settle', 25_000);

  const importCalls = Object.entries(tally).filter(([k]) => k.startsWith('import-call:'));
  const importFires = Object.entries(tally).filter(([k]) => k.startsWith('import-fire:'));
  assert.deepEqual(importCalls.map(([, v]) => v), ['import', 'import'], 'each worker\'s import-time call got its answer');
  assert.deepEqual(importFires.map(([, v]) => v), ['fired', 'fired']);
  assert.equal(tally['start-call'], 'onStart');
  assert.equal(tally['start-fire'], 'fired');
  assert.equal(tally['start-hooks'], '1', 'onStart runs once per process, not once per worker');

  const phases = (await redis.xrange(streamOf(names.api), '-', '+'))
    .map(([, fields]) => fields[fields.indexOf(':phase') + 1])
    .filter((phase) => phase !== undefined)
    .map((json) => JSON.parse(json!) as string)
    .sort();
  assert.deepEqual(phases, ['import', 'import', 'onStart']);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  assert.equal(runner.records.filter((r) => /not ready/i.test(JSON.stringify(r))).length, 0);
});
