/** The key names of each `redis.keys` layout (key-layout.ts), and the readers that accept both. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamKey } from '../../src/transport/wire/events.js';
import { expiryMarkerKey, resultKeyRefusal, rpcQueueKey } from '../../src/transport/wire/rpc.js';
import { HASH_TAGGED_KEYS, hashTag, parseQueueKey, parseStreamKey, PYTHON_KEYS, shareOneSlot, slotGroup } from '../../src/transport/wire/key-layout.js';

describe("the 'python' layout", () => {
  test("is exactly today's names of the wire contract", () => {
    assert.equal(PYTHON_KEYS.rpcQueue('auth'), 'auth:rpc_queue');
    assert.equal(PYTHON_KEYS.rpcQueue('my_company.auth'), rpcQueueKey('my_company.auth'));
    assert.equal(PYTHON_KEYS.expiryMarker('auth', 'c-1'), 'rpc_expiry_key:c-1');
    assert.equal(PYTHON_KEYS.expiryMarker('auth', 'c-1'), expiryMarkerKey('c-1'));
    assert.equal(PYTHON_KEYS.expiryMarkerPrefix('auth') + 'c-1', PYTHON_KEYS.expiryMarker('auth', 'c-1'));
    assert.equal(PYTHON_KEYS.stream('auth', 'user_registered', 'per_api'), 'auth.*:stream');
    assert.equal(PYTHON_KEYS.stream('auth', 'user_registered', 'per_event'), 'auth.user_registered:stream');
    assert.equal(PYTHON_KEYS.stream('a.b', 'e', 'per_event'), streamKey('a.b', 'e', 'per_event'));
    assert.equal(PYTHON_KEYS.apiInOneSlot, false);
  });
});

describe("the 'hash-tagged' layout", () => {
  test('puts every key of an API behind lightbus:{api}, the tag being exactly the API name', () => {
    const names = [
      HASH_TAGGED_KEYS.rpcQueue('my_company.auth'),
      HASH_TAGGED_KEYS.expiryMarker('my_company.auth', 'c-1'),
      HASH_TAGGED_KEYS.stream('my_company.auth', 'x', 'per_api'),
      HASH_TAGGED_KEYS.stream('my_company.auth', 'user_registered', 'per_event'),
    ];
    assert.deepEqual(names, [
      'lightbus:{my_company.auth}:rpc_queue',
      'lightbus:{my_company.auth}:rpc_expiry_key:c-1',
      'lightbus:{my_company.auth}.*:stream',
      'lightbus:{my_company.auth}.user_registered:stream',
    ]);
    for (const name of names) assert.equal(hashTag(name), 'my_company.auth', name);
    assert.ok(shareOneSlot(names));
    assert.equal(HASH_TAGGED_KEYS.expiryMarkerPrefix('auth') + 'c-1', HASH_TAGGED_KEYS.expiryMarker('auth', 'c-1'));
    assert.equal(HASH_TAGGED_KEYS.apiInOneSlot, true);
  });

  test('no bus key of either layout passes the result-key check; a caller return path still does', () => {
    for (const keys of [PYTHON_KEYS, HASH_TAGGED_KEYS]) {
      for (const key of [keys.rpcQueue('auth'), keys.expiryMarker('auth', 'c1'), keys.stream('auth', 'e', 'per_api'), keys.stream('auth', 'e', 'per_event')]) {
        assert.ok(resultKeyRefusal(key), `${key} is refused as a result key`);
      }
    }
    assert.equal(resultKeyRefusal('lightbus:results:svc:host-1:0123456789ab'), undefined);
    assert.ok(resultKeyRefusal('lightbus:{auth}:results:svc:host-1:0123456789ab'), 'no hash-tagged result shape was added');
  });
});

describe('slots', () => {
  test("Redis's hash-tag rule: the first {...} when not empty, else the whole key", () => {
    assert.equal(hashTag('lightbus:{auth}:rpc_queue'), 'auth');
    assert.equal(hashTag('a{b}{c}'), 'b');
    assert.equal(hashTag('a{}b{c}'), undefined);
    assert.equal(hashTag('auth:rpc_queue'), undefined);
    assert.equal(hashTag('a{b'), undefined);
    assert.equal(slotGroup('auth:rpc_queue'), 'auth:rpc_queue');
    assert.equal(slotGroup('x{auth}y'), '{auth}');
  });

  test('keys surely share a slot only with one hash tag, or when they are one key', () => {
    assert.ok(shareOneSlot([]));
    assert.ok(shareOneSlot(['auth.*:stream', 'auth.*:stream']));
    assert.equal(shareOneSlot(['auth.a:stream', 'auth.b:stream']), false);
    assert.equal(shareOneSlot([HASH_TAGGED_KEYS.stream('auth', 'a', 'per_event'), HASH_TAGGED_KEYS.stream('billing', 'a', 'per_event')]), false);
    assert.equal(shareOneSlot([HASH_TAGGED_KEYS.stream('auth', 'a', 'per_api'), 'lightbus:replay:auth-listener']), false);
  });
});

describe('reading keys of either layout back', () => {
  test('RPC queues', () => {
    assert.equal(parseQueueKey('auth:rpc_queue'), 'auth');
    assert.equal(parseQueueKey('a.b:rpc_queue'), 'a.b');
    assert.equal(parseQueueKey('lightbus:{a.b}:rpc_queue'), 'a.b');
    assert.equal(parseQueueKey(':rpc_queue'), undefined);
    assert.equal(parseQueueKey('lightbus:{auth}x:rpc_queue'), undefined);
    assert.equal(parseQueueKey('auth.*:stream'), undefined);
  });

  test('event streams', () => {
    assert.deepEqual(parseStreamKey('auth.*:stream'), { api: 'auth', event: undefined });
    assert.deepEqual(parseStreamKey('a.b.ev:stream'), { api: 'a.b', event: 'ev' });
    assert.deepEqual(parseStreamKey('lightbus:{a.b}.*:stream'), { api: 'a.b', event: undefined });
    assert.deepEqual(parseStreamKey('lightbus:{a.b}.ev:stream'), { api: 'a.b', event: 'ev' });
    assert.equal(parseStreamKey('lightbus:{auth}:stream'), undefined);
    assert.equal(parseStreamKey('lightbus:{auth}.a.b:stream'), undefined);
    assert.equal(parseStreamKey('lightbus:dead_letter:stream'), undefined);
    assert.equal(parseStreamKey('lightbus:{auth}:rpc_queue'), undefined);
  });
});
