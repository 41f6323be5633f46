/**
 * Trace context on the wire (docs/wire-format.md, "Trace context"): where calls and events
 * carry it, that a Python Lightbus 1.x reader still takes them, and that a received value is
 * used only when it is a bounded, valid W3C value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventMessage, RpcCall } from '../../src/transport/types.js';
import { classifyEntry, decodeEvent, encodeEvent, isNoop } from '../../src/transport/wire/events.js';
import { decodeCall, encodeCall } from '../../src/transport/wire/rpc.js';
import { checkTraceHeaders, decodeEventTrace } from '../../src/transport/wire/trace-context.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACESTATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
const trace = { traceparent: TRACEPARENT, tracestate: TRACESTATE };

/**
 * What Python Lightbus 1.3 does with an event entry (lightbus/serializers/by_field.py, then
 * `EventMessage(**metadata, kwargs=kwargs)` in lightbus/message.py): a field with an empty name
 * is skipped, a `:` field is a parameter, any other is a keyword argument of the constructor,
 * which takes only these. Returns the message's metadata and kwargs, or throws as Python would.
 */
function pythonReadsEvent(fields: string[]): { metadata: Record<string, string>; kwargs: Record<string, unknown> } {
  const metadata: Record<string, string> = {};
  const kwargs: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const [name, value] = [fields[i]!, fields[i + 1]!];
    if (!name) continue;
    if (name.startsWith(':')) kwargs[name.slice(1)] = JSON.parse(value);
    else metadata[name] = value;
  }
  for (const required of ['id', 'api_name', 'event_name', 'version']) if (!metadata[required]) throw new Error(`InvalidMessage: ${required}`);
  const accepted = new Set(['id', 'api_name', 'event_name', 'version', 'native_id']);
  for (const key of Object.keys(metadata)) if (!accepted.has(key)) throw new Error(`TypeError: unexpected keyword argument '${key}'`);
  return { metadata, kwargs };
}

/** Python's blob reader (lightbus/serializers/blob.py, then `RpcMessage(**metadata, kwargs=kwargs)`). */
function pythonReadsCall(blob: string): { metadata: Record<string, unknown>; kwargs: Record<string, unknown> } {
  const decoded = JSON.parse(blob) as Record<string, unknown>;
  const metadata = (decoded['metadata'] ?? {}) as Record<string, unknown>;
  const kwargs = (decoded['kwargs'] ?? {}) as Record<string, unknown>;
  const accepted = new Set(['id', 'api_name', 'procedure_name', 'return_path', 'native_id']);
  for (const key of Object.keys(metadata)) if (!accepted.has(key)) throw new Error(`TypeError: unexpected keyword argument '${key}'`);
  return { metadata, kwargs };
}

describe('trace context on calls', () => {
  // The contract's example call (shared/spec/wire-format.md, "RPC and results").
  const call: RpcCall = {
    id: '5f1c',
    api: 'auth',
    procedure: 'check_password',
    kwargs: { username: 'admin', password: 'secret' },
    returnPath: 'redis+key://auth.check_password:result:5f1c',
    timeoutMs: 5000,
  };

  test("travels in the top-level lightbus object beside timeout_ms; the metadata keeps Python's four fields", () => {
    const blob = encodeCall({ ...call, trace });
    const parsed = JSON.parse(blob) as Record<string, Record<string, unknown>>;
    assert.deepEqual(parsed['lightbus'], { timeout_ms: 5000, traceparent: TRACEPARENT, tracestate: TRACESTATE });
    assert.deepEqual(pythonReadsCall(blob), {
      metadata: { api_name: 'auth', id: '5f1c', procedure_name: 'check_password', return_path: 'redis+key://auth.check_password:result:5f1c' },
      kwargs: { username: 'admin', password: 'secret' },
    });
    assert.deepEqual(decodeCall(blob), { ...call, trace });
  });

  test('an untraced call carries no trace field; a Python call decodes without one', () => {
    assert.deepEqual(JSON.parse(encodeCall(call))['lightbus'], { timeout_ms: 5000 });
    const python =
      '{"kwargs": {"password": "secret", "username": "admin"}, "metadata": {"api_name": "auth", "id": "5f1c", "procedure_name": "check_password", "return_path": "redis+key://auth.check_password:result:5f1c"}}';
    assert.equal((decodeCall(python) as RpcCall).trace, undefined);
  });

  test('a bad traceparent is ignored and the call still runs; a bad tracestate alone is dropped', () => {
    const withExtras = (extras: Record<string, unknown>) =>
      decodeCall(JSON.stringify({ kwargs: {}, metadata: { api_name: 'a', id: 'i', procedure_name: 'p', return_path: 'r' }, lightbus: extras })) as RpcCall;
    assert.equal(withExtras({ traceparent: TRACEPARENT.toUpperCase() }).trace, undefined);
    assert.equal(withExtras({ traceparent: 42, timeout_ms: 1000 }).timeoutMs, 1000, 'the rest of the object still counts');
    assert.equal(withExtras({ traceparent: 42 }).trace, undefined);
    assert.deepEqual(withExtras({ traceparent: TRACEPARENT, tracestate: 'x'.repeat(513) }).trace, { traceparent: TRACEPARENT });
  });
});

describe('trace context on events', () => {
  // The contract's example event (shared/spec/wire-format.md, "Events").
  const event: EventMessage = { id: 'e1', api: 'auth', event: 'user_registered', version: 1, kwargs: { username: 'adam', email: 'adam@example.com' } };

  test('travels in one field with an empty name after the parameters, which Python skips', () => {
    const fields = encodeEvent({ ...event, trace });
    assert.deepEqual(fields.slice(0, -2), encodeEvent(event), 'the contract fields first, unchanged');
    assert.deepEqual(fields.slice(-2), ['', JSON.stringify({ traceparent: TRACEPARENT, tracestate: TRACESTATE })]);
    assert.deepEqual(pythonReadsEvent(fields), {
      metadata: { id: 'e1', api_name: 'auth', event_name: 'user_registered', version: '1' },
      kwargs: { username: 'adam', email: 'adam@example.com' },
    });
    assert.equal(isNoop(fields), false);
    assert.deepEqual(decodeEvent(fields), { ...event, trace });
    assert.equal(classifyEntry(fields, () => true).kind, 'event');
  });

  test('what the context field would break elsewhere: a metadata field fails Python, a parameter reaches its handler', () => {
    // Why the field has no name: the other places an entry could carry it.
    const contract = encodeEvent(event);
    assert.throws(() => pythonReadsEvent([...contract, 'traceparent', TRACEPARENT]), /unexpected keyword argument 'traceparent'/);
    assert.equal(pythonReadsEvent([...contract, ':traceparent', JSON.stringify(TRACEPARENT)]).kwargs['traceparent'], TRACEPARENT);
  });

  test('an untraced event is exactly the contract fields; an empty field or a bad value is ignored, the event still decodes', () => {
    assert.equal(encodeEvent(event).includes(''), false);
    const contract = encodeEvent(event);
    for (const value of ['', 'not json', '[1]', '"00-..."', JSON.stringify({ traceparent: `${TRACEPARENT}-extra` }), JSON.stringify({ traceparent: TRACEPARENT, pad: 'x'.repeat(1100) })]) {
      const decoded = decodeEvent([...contract, '', value]);
      assert.deepEqual(decoded, event, `context field ${value.slice(0, 40)}`);
    }
  });
});

describe('received traceparent values', () => {
  test('only a valid W3C traceparent within bounds is used', () => {
    assert.deepEqual(checkTraceHeaders(TRACEPARENT, undefined), { traceparent: TRACEPARENT });
    assert.deepEqual(checkTraceHeaders(TRACEPARENT, TRACESTATE), trace);
    // A later version may add fields after the flags; version 00 may not.
    assert.ok(checkTraceHeaders(`01-${TRACEPARENT.slice(3)}-future`, undefined));
    const refused = [
      '',
      TRACEPARENT.toUpperCase(),
      `${TRACEPARENT}-extra`,
      `ff-${TRACEPARENT.slice(3)}`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      `01-${TRACEPARENT.slice(3)}-${'x'.repeat(300)}`,
      ` ${TRACEPARENT}`,
      `${TRACEPARENT}\n`,
    ];
    for (const value of refused) assert.equal(checkTraceHeaders(value, undefined), undefined, JSON.stringify(value));
    for (const value of [undefined, null, 7, { traceparent: TRACEPARENT }, [TRACEPARENT]]) assert.equal(checkTraceHeaders(value, TRACESTATE), undefined);
  });

  test('a tracestate that is not bounded printable text is dropped, the parent kept', () => {
    for (const bad of ['x'.repeat(513), 'a=b\nc=d', 'a="b"', 'a=\\b', 5, ['a=b'], '']) {
      assert.deepEqual(checkTraceHeaders(TRACEPARENT, bad), { traceparent: TRACEPARENT }, JSON.stringify(bad));
    }
  });

  test('the event field is read only when it is a small JSON object', () => {
    assert.deepEqual(decodeEventTrace(JSON.stringify(trace)), trace);
    assert.equal(decodeEventTrace(`{"traceparent": "${TRACEPARENT}", "pad": "${'x'.repeat(1024)}"}`), undefined);
    assert.equal(decodeEventTrace('null'), undefined);
  });
});
