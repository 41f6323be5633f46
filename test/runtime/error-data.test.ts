// An error keeps its name, message, stack and data end to end: worker → invoker → Redis →
// caller's invoker → caller (a process bus here, a worker in the relay), and Python peers
// still read and write the error results they know.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RemoteError, ValidationError, createBus } from '../../src/index.js';
import { REDIS_URL, cleanUpNames, fixtureEnv, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, startRunner, type RunnerProcess } from './helpers/runner-process.js';

const names = testNames('errdata');
const pythonApi = `${names.api}_py`;
// The stand-in Python server below pops the queue by hand and publishes no schema, so the caller
// cannot see that anyone serves its API: it is told to send the call anyway.
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent', apis: { [pythonApi]: { whenNoServer: 'wait' } } } });
const redis = new Redis(REDIS_URL);
let runner: RunnerProcess;

/** What the fixture's `bad_result` returns against its schema. */
const BAD_RESULT_ISSUES = [
  { path: '/count', expected: 'integer', received: '"many"' },
  { path: '/label', expected: 'string', received: '7' },
];

before(async () => {
  runner = await startRunner({ modules: ['error-data.ts'], serviceName: names.service, workers: 1, env: fixtureEnv(names) });
  await runner.ready();
});

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await redis.del(`${pythonApi}:rpc_queue`);
  redis.disconnect();
  await cleanUpNames(names);
});

async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => assert.fail('the call should have failed'),
    (error: unknown) => error,
  );
}

describe('error data over the wire', () => {
  test('a result failing its schema on the server arrives as a ValidationError with the same issues', async () => {
    const error = await failureOf(bus.call(`${names.api}.bad_result`, {}, { timeoutMs: 10_000 }));
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.api, names.api);
    assert.equal(error.member, 'bad_result');
    assert.deepEqual(error.issues, BAD_RESULT_ISSUES);
    assert.match(error.stack ?? '', /--- remote stack ---/);
  });

  test('a user error arrives with its code, details and cause chain', async () => {
    const error = await failureOf(bus.call(`${names.api}.over_quota`, { user: 'ada' }, { timeoutMs: 10_000 }));
    assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
    assert.equal(error.remoteName, 'QuotaError');
    assert.deepEqual(error.remoteData, { code: 'E_QUOTA', details: { used: 120, limit: 100, unit: 'GB' } });
    const cause = error.cause as Error & { code?: string; details?: unknown; cause?: Error & { code?: string } };
    assert.ok(cause instanceof Error, 'the RemoteError has the remote error as its cause');
    assert.equal(cause.name, 'QuotaError');
    assert.equal(cause.message, 'ada is over quota');
    assert.equal(cause.code, 'E_QUOTA');
    assert.deepEqual(cause.details, { used: 120, limit: 100, unit: 'GB' });
    assert.match(cause.stack ?? '', /error-data\.ts/);
    assert.equal(cause.cause?.message, 'storage full');
    assert.equal(cause.cause?.code, 'ENOSPC');
  });

  test('a caller in a worker thread gets the same data (worker → invoker → Redis → invoker → worker)', async () => {
    const validation = (await bus.call(`${names.api}.relay`, { procedure: 'bad_result' }, { timeoutMs: 20_000 })) as Record<string, unknown>;
    assert.equal(validation['isValidation'], true);
    assert.deepEqual(validation['issues'], BAD_RESULT_ISSUES);

    const quota = (await bus.call(`${names.api}.relay`, { procedure: 'over_quota' }, { timeoutMs: 20_000 })) as Record<string, unknown>;
    assert.equal(quota['isRemote'], true);
    assert.equal(quota['remoteName'], 'QuotaError');
    assert.deepEqual(quota['remoteData'], { code: 'E_QUOTA', details: { used: 120, limit: 100, unit: 'GB' } });
    assert.deepEqual(quota['cause'], {
      name: 'QuotaError',
      message: 'ada is over quota',
      code: 'E_QUOTA',
      details: { used: 120, limit: 100, unit: 'GB' },
      causeCode: 'ENOSPC',
    });
  });

  test('for a Python caller the result is the short error text under kwargs.result, with only the metadata Python reads', async () => {
    // A call as Python writes it, with parameters the server's schema refuses.
    const id = randomUUID();
    const resultKey = `${names.api}.over_quota:result:${id}`;
    await redis.set(`rpc_expiry_key:${id}`, '1', 'EX', 10);
    await redis.rpush(
      `${names.api}:rpc_queue`,
      JSON.stringify({
        kwargs: { user: 5 },
        metadata: { api_name: names.api, id, procedure_name: 'over_quota', return_path: `redis+key://${resultKey}` },
      }),
    );
    const popped = await redis.blpop(resultKey, 10);
    assert.ok(popped, 'the server answered');
    const blob = JSON.parse(popped[1]) as { kwargs: Record<string, unknown>; metadata: Record<string, unknown> };
    assert.deepEqual(Object.keys(blob.metadata).sort(), ['error', 'id', 'rpc_message_id', 'trace']);
    assert.equal(blob.metadata['error'], true);
    assert.equal(blob.metadata['rpc_message_id'], id);
    assert.match(String(blob.kwargs['result']), /^ValidationError: .*over_quota parameters: \/user/);
    assert.ok(String(blob.kwargs['result']).length < 300, 'the text a Python caller shows stays short');
    assert.match(String(blob.metadata['trace']), /ValidationError/);
    // The structured part rides beside it, in a kwargs key Python's ResultMessage never reads.
    const detail = blob.kwargs['error_detail'] as { name: string; data: { issues: unknown[] } };
    assert.equal(detail.name, 'ValidationError');
    assert.deepEqual(detail.data.issues, [{ path: '/user', expected: 'string', received: '5' }]);
  });

  test('a Python-shaped error result (repr text, traceback) still becomes a RemoteError', async () => {
    const trace = 'Traceback (most recent call last):\n  File "auth.py", line 3, in explode\n    raise ValueError(\'bad\')\nValueError: bad\n';
    const pythonServer = new Redis(REDIS_URL);
    try {
      const serve = (async () => {
        const popped = await pythonServer.blpop(`${pythonApi}:rpc_queue`, 10);
        assert.ok(popped, 'the call arrived');
        const call = JSON.parse(popped[1]) as { metadata: { id: string; return_path: string } };
        await pythonServer.del(`rpc_expiry_key:${call.metadata.id}`);
        const key = call.metadata.return_path.slice('redis+key://'.length);
        await pythonServer.lpush(
          key,
          JSON.stringify({ kwargs: { result: "ValueError('bad')" }, metadata: { error: true, id: randomUUID(), rpc_message_id: call.metadata.id, trace } }),
        );
      })();
      const error = await failureOf(bus.call(`${pythonApi}.explode`, {}, { timeoutMs: 10_000 }));
      await serve;
      assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
      assert.equal(error.remoteName, 'ValueError');
      assert.match(error.message, /failed remotely: ValueError: bad$/);
      assert.equal(error.remoteStack, trace);
      assert.equal(error.remoteData, undefined);
      const cause = error.cause as Error;
      assert.equal(cause?.name, 'ValueError');
      assert.equal(cause?.message, 'bad');
      assert.equal(cause?.stack, trace);
    } finally {
      pythonServer.disconnect();
    }
  });
});
