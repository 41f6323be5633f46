/** An error's data and causes in an error result, and the bounds on what an error carries; without Redis. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ERROR_LIMITS } from '../../src/error-data.js';
import { RemoteError, ValidationError, deserializeError, serializeError } from '../../src/errors.js';
import { decodeErrorDetail } from '../../src/transport/wire/error-detail.js';
import { decodeResult, encodeResult } from '../../src/transport/wire/rpc.js';

class QuotaError extends Error {
  override name = 'QuotaError';
  readonly code = 'E_QUOTA';
  constructor(
    message: string,
    readonly details: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

describe('error data', () => {
  test('a user error keeps its name, message, stack, own fields and cause chain through serialise and rebuild', () => {
    const low = Object.assign(new Error('storage full'), { code: 'ENOSPC' });
    const original = new QuotaError('ada is over quota', { used: 120, at: new Date('2026-01-02T03:04:05Z') }, { cause: low });
    const rebuilt = deserializeError(structuredClone(serializeError(original))) as Error & { code?: string; details?: unknown };
    assert.equal(rebuilt.name, 'QuotaError');
    assert.equal(rebuilt.message, 'ada is over quota');
    assert.equal(rebuilt.stack, original.stack);
    assert.equal(rebuilt.code, 'E_QUOTA');
    assert.deepEqual(rebuilt.details, { used: 120, at: '2026-01-02T03:04:05.000Z' });
    const cause = rebuilt.cause as Error & { code?: string };
    assert.equal(cause.message, 'storage full');
    assert.equal(cause.code, 'ENOSPC');
    assert.equal(Object.keys(rebuilt).includes('cause'), false, 'cause is not enumerable, as with new Error(m, { cause })');
  });

  test('lightbus errors keep their fields; a RemoteError its remote data and cause', () => {
    const issues = [{ path: '/n', expected: 'integer', received: '"x"' }];
    const validation = deserializeError(serializeError(new ValidationError('bad', 'auth', 'login', issues)));
    assert.ok(validation instanceof ValidationError);
    assert.deepEqual(validation.issues, issues);
    const remote = new RemoteError('RPC a.b failed remotely', 'QuotaError', 'stack', 'a', 'b', { code: 'E_QUOTA' }, { cause: new QuotaError('q', null) });
    const rebuilt = deserializeError(serializeError(remote));
    assert.ok(rebuilt instanceof RemoteError);
    assert.deepEqual(rebuilt.remoteData, { code: 'E_QUOTA' });
    assert.equal((rebuilt.cause as Error).name, 'QuotaError');
  });

  test('what an error carries is bounded, and every cut says so', () => {
    const huge = 'x'.repeat(1_000_000);
    let error: Error = Object.assign(new Error(huge), { blob: huge, rows: Array.from({ length: 100_000 }, (_, i) => ({ i })) });
    error.stack = huge;
    for (let level = 0; level < 10; level++) error = Object.assign(new Error(`level ${level}`, { cause: error }), { stack: huge });
    const serialized = serializeError(error);
    const size = JSON.stringify(serialized).length;
    const perLevel = ERROR_LIMITS.messageChars + ERROR_LIMITS.stackChars + ERROR_LIMITS.dataChars + 1000;
    assert.ok(size < perLevel * (ERROR_LIMITS.causeDepth + 1), `serialised to ${size} characters`);
    assert.match(serialized.stack ?? '', /… \[\d+ more characters cut\]$/);
    let depth = 0;
    for (let e = serialized.cause; e; e = e.cause) depth++;
    assert.equal(depth, ERROR_LIMITS.causeDepth);
  });

  test('data JSON cannot carry is left out: cycles, functions, undefined', () => {
    const cyclic: Record<string, unknown> = { keep: 1 };
    cyclic['self'] = cyclic;
    const error = Object.assign(new Error('m'), { cyclic, fn: () => 1, nothing: undefined, n: NaN });
    assert.deepEqual(serializeError(error).data, { cyclic: { keep: 1 }, n: null });
  });
});

describe('error detail on the wire', () => {
  const quota = serializeError(new QuotaError('over quota', { limit: 100 }, { cause: new Error('db') }));
  const result = { id: 'r', rpcMessageId: 'c', result: 'QuotaError: over quota', error: true, trace: quota.stack!, errorDetail: quota };

  test('the detail rides in kwargs.error_detail: Python reads the same result text and metadata as before', () => {
    const blob = JSON.parse(encodeResult(result)) as { kwargs: Record<string, unknown>; metadata: Record<string, unknown> };
    assert.equal(blob.kwargs['result'], 'QuotaError: over quota');
    assert.deepEqual(Object.keys(blob.metadata).sort(), ['error', 'id', 'rpc_message_id', 'trace']);
    const detail = blob.kwargs['error_detail'] as Record<string, unknown>;
    assert.equal(detail['stack'], undefined, 'the top-level stack is metadata.trace, not sent twice');
    assert.deepEqual(detail['data'], { code: 'E_QUOTA', details: { limit: 100 } });
    assert.deepEqual(decodeResult(encodeResult(result)), result);
  });

  test('a Python error result has no detail and decodes as before', () => {
    assert.deepEqual(
      decodeResult('{"kwargs": {"result": "ValueError(\'bad\')"}, "metadata": {"error": true, "id": "r", "rpc_message_id": "c", "trace": "Traceback"}}'),
      { id: 'r', rpcMessageId: 'c', result: "ValueError('bad')", error: true, trace: 'Traceback' },
    );
  });

  test('a hostile detail is bounded or dropped, never trusted', () => {
    assert.equal(decodeErrorDetail({ name: 5, message: 'm' }, undefined), undefined);
    assert.equal(decodeErrorDetail('ValueError', undefined), undefined);
    const big = 'y'.repeat(500_000);
    const decoded = decodeErrorDetail(JSON.parse(`{"name": "E", "message": "${big}", "data": {"__proto__": {"polluted": true}, "list": [${'1,'.repeat(50_000)}1]}}`), big);
    assert.ok(decoded);
    assert.ok(decoded.message.length < ERROR_LIMITS.messageChars + 100);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.hasOwn(decoded.data ?? {}, '__proto__'), false);
    assert.match(String((decoded.data?.['list'] as unknown[]).at(-1)), /more items cut/);
    const rebuilt = deserializeError({ name: 'ValidationError', message: 'v', data: { api: 3, member: 'm', issues: ['nope', { path: '/a', expected: 'x', received: 'y' }] } });
    assert.ok(rebuilt instanceof ValidationError);
    assert.deepEqual(rebuilt.issues, [{ path: '/a', expected: 'x', received: 'y' }]);
    assert.equal(rebuilt.api, undefined);
  });
});
