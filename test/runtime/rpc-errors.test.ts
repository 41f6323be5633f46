// An error in an RPC handler reaches the caller as data (name, message, stack) and the worker keeps serving.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RemoteError, createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner } from './helpers/runner-process.js';

const names = testNames('rpcerr');
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await cleanUpNames(names);
});

test('an error thrown by an RPC handler reaches the caller as RemoteError with name, message and stack; the worker keeps serving', async () => {
  const runner = await startRunner({ modules: ['failing-rpc.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
  await runner.ready();

  for (const id of [7, 8]) {
    const error = await bus.call(`${names.api}.find_invoice`, { id }, { timeoutMs: 10_000 }).then(
      () => assert.fail('the call should have failed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
    assert.equal(error.remoteName, 'InvoiceMissing');
    assert.match(error.message, new RegExp(`no invoice ${id}`));
    assert.equal(error.procedure, 'find_invoice');
    assert.match(error.remoteStack ?? '', /lookUpInvoice/);
    assert.match(error.remoteStack ?? '', /failing-rpc\.ts/);
    assert.equal(await bus.call(`${names.api}.ok`, {}, { timeoutMs: 10_000 }), 'fine');
  }

  // A worker's log lines reach the main thread on their own path, so the second may trail its answer.
  const failures = () => runner.records.filter((r) => r.msg === 'RPC handler failed');
  await waitFor(() => failures().length >= 2, 'both failures logged', 10_000);
  const logged = failures();
  assert.equal(logged.length, 2, 'each failure is logged by the worker');
  assert.equal(logged[0]!['worker'], 1);
  assert.equal(runner.records.filter((r) => /replacing it/.test(r.msg)).length, 0, 'no worker was replaced');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
