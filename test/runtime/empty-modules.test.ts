// `lightbus run` on modules that register nothing warns, naming the modules and the fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureEnv, testNames } from './helpers/bus-state.js';
import { fixturePath, startRunner } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { used } = runnerSuiteState();

test('modules that register no API, listener or task get a warning naming them and the fix', async () => {
  const names = testNames('empty');
  used.push(names);
  const runner = await startRunner({ modules: ['registers-nothing.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
  await runner.ready();
  const warning = runner.records.find((r) => r.level === 40 && /registered nothing/.test(r.msg));
  assert.ok(warning, runner.tail());
  assert.ok(warning.msg.includes(fixturePath('registers-nothing.ts')), 'the module is named');
  assert.match(warning.msg, /bus\.serve\(\), bus\.listen\(\) or bus\.every\(\)/);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('modules that register something get no such warning', async () => {
  const names = testNames('empty');
  used.push(names);
  const runner = await startRunner({ modules: ['failing-listener.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
  await runner.ready();
  assert.ok(!runner.records.some((r) => /registered nothing/.test(r.msg)));
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
