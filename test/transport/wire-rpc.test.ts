/** The RPC/result/schema wire codec, without Redis. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RpcCall } from '../../src/transport/types.js';
import {
  decodeCall,
  decodeResult,
  encodeCall,
  encodeResult,
  expiryMarkerKey,
  formatRemoteError,
  parseRemoteError,
  redisReturnPath,
  resultKeyRefusal,
  returnPathKey,
  rpcQueueKey,
} from '../../src/transport/wire/rpc.js';
import { decodeSchema, encodeSchema, SCHEMA_SET_KEY, schemaKey } from '../../src/transport/wire/schemas.js';

const call = { id: 'c1', api: 'my_company.auth', procedure: 'check_password', kwargs: { username: 'admin' }, returnPath: 'redis+key://k' };

describe('RPC wire codec', () => {
  test('key names follow the contract', () => {
    assert.equal(rpcQueueKey('my_company.auth'), 'my_company.auth:rpc_queue');
    assert.equal(expiryMarkerKey('abc'), 'rpc_expiry_key:abc');
    assert.equal(schemaKey('auth'), 'schema:auth');
    assert.equal(SCHEMA_SET_KEY, 'schemas');
    assert.equal(redisReturnPath('auth.check:result:1'), 'redis+key://auth.check:result:1');
    assert.equal(returnPathKey('redis+key://auth.check:result:1'), 'auth.check:result:1');
    assert.throws(() => returnPathKey('http://x'), /Unsupported return path "http:\/\/x"/);
    assert.throws(() => returnPathKey('redis+key://'), /Unsupported return path/);
  });

  test('only keys of the result-key shapes may receive results', () => {
    for (const key of ['auth.check_password:result:5f1c-11ee', 'my_company.auth.check:result:abc', 'lightbus:results:svc:host-12:0123456789ab', 'lightbus:results:a:b:c:0123456789ab']) {
      assert.equal(resultKeyRefusal(key), undefined, key);
    }
    const refused = ['schemas', 'schema:auth', 'auth.*:stream', 'auth.user_registered:stream', 'auth:rpc_queue', 'rpc_expiry_key:1', 'lightbus:processes', 'lightbus:dead_letter:stream',
      'auth.check:result:1:stream', 'auth.check:result:', 'check:result:1', 'lightbus:results:svc:0123456789ab', 'lightbus:results:a:b:c', `auth.check:result:${'x'.repeat(1000)}`, 'auth.check:result:1\n'];
    for (const key of refused) assert.ok(resultKeyRefusal(key), key);
    assert.throws(() => returnPathKey('redis+key://schemas'), /Unsupported return path "redis\+key:\/\/schemas": a result key reads/);
    assert.throws(() => returnPathKey(`redis+key://${'k'.repeat(5000)}`), (error: Error) => error.message.length < 400);
  });

  test('a call encodes to exactly the fields Python writes and decodes back', () => {
    const blob = encodeCall({ ...call, kwargs: { username: 'admin', at: new Date(0), raw: new Uint8Array([1, 2]), gone: undefined } });
    assert.deepEqual(JSON.parse(blob), {
      kwargs: { username: 'admin', at: '1970-01-01T00:00:00.000Z', raw: 'AQI=' },
      metadata: { api_name: 'my_company.auth', id: 'c1', procedure_name: 'check_password', return_path: 'redis+key://k' },
    });
    assert.deepEqual(decodeCall(encodeCall(call)), call);
  });

  test("our call's timeout travels in a top-level field Python skips; metadata keeps exactly Python's four fields", () => {
    const blob = JSON.parse(encodeCall({ ...call, timeoutMs: 2500 })) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(blob).sort(), ['kwargs', 'lightbus', 'metadata']);
    assert.deepEqual(Object.keys(blob['metadata']!).sort(), ['api_name', 'id', 'procedure_name', 'return_path']);
    assert.deepEqual(blob['lightbus'], { timeout_ms: 2500 });
    assert.equal((decodeCall(JSON.stringify(blob)) as RpcCall).timeoutMs, 2500);
  });

  test('a timeout from another process is used only when it is a sane number', () => {
    const withTimeout = (value: unknown) => {
      const decoded = decodeCall(JSON.stringify({ kwargs: {}, metadata: { api_name: 'a', id: 'i', procedure_name: 'p', return_path: 'r' }, lightbus: { timeout_ms: value } }));
      assert.ok(!('malformed' in decoded), 'a bad timeout never makes the call malformed');
      return (decoded as RpcCall).timeoutMs;
    };
    assert.equal(withTimeout(1000), 1000);
    for (const bad of ['1000', -5, 0, 1e12, null, Number.NaN, { n: 1 }]) assert.equal(withTimeout(bad), undefined, `timeout_ms ${String(bad)}`);
    const notAnObject = decodeCall('{"kwargs": {}, "metadata": {"api_name": "a", "id": "i", "procedure_name": "p", "return_path": "r"}, "lightbus": "x"}');
    assert.equal((notAnObject as RpcCall).timeoutMs, undefined);
  });

  test('a Python-written call decodes; extra top-level fields are ignored and missing kwargs are empty', () => {
    const python =
      '{"kwargs": {"password": "secret", "username": "admin"}, "metadata": {"api_name": "auth", "id": "5f1c", "procedure_name": "check_password", "return_path": "redis+key://auth.check_password:result:5f1c"}}';
    assert.deepEqual(decodeCall(python), {
      id: '5f1c',
      api: 'auth',
      procedure: 'check_password',
      kwargs: { password: 'secret', username: 'admin' },
      returnPath: 'redis+key://auth.check_password:result:5f1c',
    });
    const bare = decodeCall('{"extra": 1, "metadata": {"api_name": "a", "id": "i", "procedure_name": "p", "return_path": "r"}}');
    assert.deepEqual(bare, { id: 'i', api: 'a', procedure: 'p', kwargs: {}, returnPath: 'r' });
  });

  test('bad calls come back as malformed with a reason, never as an exception', () => {
    const reasons = [
      'not json',
      '[1, 2]',
      '{"kwargs": {}}',
      '{"kwargs": [], "metadata": {"api_name": "a", "id": "i", "procedure_name": "p", "return_path": "r"}}',
      '{"metadata": {"api_name": "a", "id": "", "procedure_name": "p", "return_path": "r"}}',
      '{"metadata": {"api_name": "a", "id": "i", "procedure_name": "p"}}',
      '{"metadata": {"api_name": 3, "id": "i", "procedure_name": "p", "return_path": "r"}}',
    ].map((blob) => decodeCall(blob));
    for (const decoded of reasons) assert.ok('malformed' in decoded && decoded.malformed.length > 0, JSON.stringify(decoded));
    assert.match((reasons[5] as { malformed: string }).malformed, /return_path/);
  });

  test('results encode as Python writes them: trace only on errors, undefined as null', () => {
    assert.deepEqual(JSON.parse(encodeResult({ id: 'r', rpcMessageId: 'c', result: undefined, error: false })), {
      kwargs: { result: null },
      metadata: { error: false, id: 'r', rpc_message_id: 'c' },
    });
    assert.deepEqual(JSON.parse(encodeResult({ id: 'r', rpcMessageId: 'c', result: 'TypeError: no', error: true, trace: 'at x' })), {
      kwargs: { result: 'TypeError: no' },
      metadata: { error: true, id: 'r', rpc_message_id: 'c', trace: 'at x' },
    });
    const result = { id: 'r', rpcMessageId: 'c', result: { a: [1, 'b'] }, error: false };
    assert.deepEqual(decodeResult(encodeResult(result)), result);
  });

  test('Python results decode; a missing error flag means success; bad ones are malformed', () => {
    assert.deepEqual(decodeResult('{"kwargs": {"result": true}, "metadata": {"error": false, "id": "r", "rpc_message_id": "c"}}'), {
      id: 'r',
      rpcMessageId: 'c',
      result: true,
      error: false,
    });
    assert.deepEqual(decodeResult('{"metadata": {"id": "r", "rpc_message_id": "c"}}'), { id: 'r', rpcMessageId: 'c', result: null, error: false });
    assert.deepEqual(
      decodeResult('{"kwargs": {"result": "KeyError(\'x\')"}, "metadata": {"error": true, "id": "r", "rpc_message_id": "c", "trace": "Traceback"}}'),
      { id: 'r', rpcMessageId: 'c', result: "KeyError('x')", error: true, trace: 'Traceback' },
    );
    for (const blob of [
      '',
      '{"metadata": {"id": "r"}}',
      '{"metadata": {"id": "r", "rpc_message_id": "c", "error": "yes"}}',
      '{"metadata": {"id": "r", "rpc_message_id": "c", "trace": 5}}',
      '{"kwargs": 1, "metadata": {"id": "r", "rpc_message_id": "c"}}',
    ]) {
      assert.ok('malformed' in decodeResult(blob), blob);
    }
  });
});

describe('parseRemoteError', () => {
  test('reads our "{Name}: {message}" form', () => {
    assert.equal(formatRemoteError('RangeError', 'too big: 5'), 'RangeError: too big: 5');
    assert.deepEqual(parseRemoteError('RangeError: too big: 5'), { name: 'RangeError', message: 'too big: 5' });
    assert.deepEqual(parseRemoteError('Error: a (b)\nline two'), { name: 'Error', message: 'a (b)\nline two' });
  });

  test("reads Python's repr form", () => {
    assert.deepEqual(parseRemoteError("ValueError('bad value')"), { name: 'ValueError', message: 'bad value' });
    assert.deepEqual(parseRemoteError('KeyError("x")'), { name: 'KeyError', message: 'x' });
    assert.deepEqual(parseRemoteError('ValueError("it\'s bad: really")'), { name: 'ValueError', message: "it's bad: really" });
    assert.deepEqual(parseRemoteError("ValueError('line\\nnext \\'q\\' \\\\ \\xe9 \\u2603')"), {
      name: 'ValueError',
      message: "line\nnext 'q' \\ é ☃",
    });
    assert.deepEqual(parseRemoteError('ValueError()'), { name: 'ValueError', message: '' });
    assert.deepEqual(parseRemoteError("MyError('a', 2)"), { name: 'MyError', message: "'a', 2" });
    assert.deepEqual(parseRemoteError('OSError(2, 3)'), { name: 'OSError', message: '2, 3' });
  });

  test('anything else is an Error with the whole text', () => {
    assert.deepEqual(parseRemoteError('something broke'), { name: 'Error', message: 'something broke' });
    assert.deepEqual(parseRemoteError(''), { name: 'Error', message: '' });
  });
});

describe('schema wire codec', () => {
  test('schemas are compact JSON objects; anything else is malformed', () => {
    const schema = { rpcs: { check: { parameters: { type: 'object' } } }, events: {} };
    assert.equal(encodeSchema(schema), '{"rpcs":{"check":{"parameters":{"type":"object"}}},"events":{}}');
    assert.deepEqual(decodeSchema(encodeSchema(schema)), { schema });
    for (const json of ['{', '[]', '"x"', '{"rpcs": []}', '{"events": null}']) assert.ok('malformed' in decodeSchema(json), json);
    assert.throws(() => encodeSchema(undefined), TypeError);
  });
});
