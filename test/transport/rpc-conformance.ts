/**
 * The behaviour every RPC/result/schema transport pair must show, registered once per
 * transport (Redis and memory) by their test files. Raw-key checks that only make sense for
 * one transport live in that transport's own test file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { BusClosedError } from '../../src/errors.js';
import type { CallConsumer, ResultTransport, RpcCall, RpcResult, RpcTransport, SchemaTransport } from '../../src/transport/types.js';
import { parseRemoteError } from '../../src/transport/wire/rpc.js';

import { capturingLogger, type LogRecord } from '../helpers/events.js';

export { capturingLogger, type LogRecord };

/** One bus "process" worth of transports over a shared backend, plus raw access for tests. */
export interface RpcHarness {
  rpc: RpcTransport;
  result: ResultTransport;
  schema: SchemaTransport;
  records: LogRecord[];
  /** A fresh API name, whose queue is cleaned up by `close`. */
  newApi(): string;
  /** Pushes a raw blob onto an API's call queue, setting an expiry marker for `markerId` when given. */
  pushRawCall(api: string, blob: string, markerId?: string): Promise<void>;
  /** Pushes a raw blob to the list a return path of this transport names. */
  pushRawResult(returnPath: string, blob: string): Promise<void>;
  /** Removes a published schema (cleanup of the shared `schemas` set). */
  forgetSchema(api: string): Promise<void>;
  close(): Promise<void>;
}

export type HarnessFactory = (settings: { resultTtlMs: number }) => Promise<RpcHarness>;

const DEFAULTS = { resultTtlMs: 60000 };

/** A call as a caller sends it; `timeoutMs` (how long its marker lives) only when given. */
export function newCall(api: string, procedure: string, kwargs: Record<string, unknown>, returnPath: string, timeoutMs?: number): RpcCall {
  return { id: randomUUID(), api, procedure, kwargs, returnPath, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/**
 * Received calls as they were sent: checks each one's deadline (when the caller gives up, which
 * a server learns from the marker or the call) lies within its caller's wait from now, then
 * leaves it out so the rest compares equal to the sent call.
 */
export function asSent(calls: RpcCall[]): RpcCall[] {
  const now = Date.now();
  return calls.map(({ deadline, ...call }) => {
    if (deadline !== undefined) {
      const wait = call.timeoutMs ?? 5000;
      assert.ok(deadline > now - 1000 && deadline <= now + wait + 50, `call ${call.id}: deadline ${deadline - now} ms from now, its caller waits ${wait} ms`);
    }
    return call;
  });
}

/** Resolves with `promise`, or rejects after `ms` (a bound on waits, never a timing assertion). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]);
}

/** Polls `condition` until it holds, up to `ms`. */
export async function eventually(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Takes calls until `count` came out. */
/** Polls `check` until it answers something (bounded). */
async function waitForValue<T>(check: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function takeAll(consumer: CallConsumer, count: number, max = 100): Promise<RpcCall[]> {
  const calls: RpcCall[] = [];
  while (calls.length < count) calls.push(...(await within(consumer.next(max), 5000, 'next()')));
  return calls;
}

export function rpcConformance(name: string, factory: HarnessFactory): void {
  describe(`${name}: RPC, result and schema transport behaviour`, () => {
    const harnesses: RpcHarness[] = [];
    const open = async (settings: Partial<typeof DEFAULTS> = {}) => {
      const harness = await factory({ ...DEFAULTS, ...settings });
      harnesses.push(harness);
      return harness;
    };
    after(async () => {
      await Promise.all(harnesses.map((harness) => harness.close()));
    });

    test('calls come out in order, with their kwargs converted to JSON values', async () => {
      const h = await open();
      const api = h.newApi();
      const consumer = h.rpc.consume([api]);
      const sent = [
        newCall(api, 'check', { username: 'adam', when: new Date('2024-01-02T03:04:05.000Z'), tags: new Set(['a']) }, h.result.returnPath),
        newCall(api, 'check', { username: 'eve' }, h.result.returnPath),
      ];
      await Promise.all(sent.map((call) => h.rpc.send(call)));
      const received = asSent(await takeAll(consumer, 2));
      assert.deepEqual(received[0], { ...sent[0], kwargs: { username: 'adam', when: '2024-01-02T03:04:05.000Z', tags: ['a'] } });
      assert.deepEqual(received[1], sent[1]);
      await consumer.close();
    });

    test('next() waits until a call is sent', async () => {
      const h = await open();
      const api = h.newApi();
      const consumer = h.rpc.consume([api]);
      const waiting = consumer.next(10);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const call = newCall(api, 'ping', {}, h.result.returnPath);
      await h.rpc.send(call);
      assert.deepEqual(asSent(await within(waiting, 5000, 'next()')), [call]);
      await consumer.close();
    });

    test('a call whose expiry marker is gone (its caller gave up) is dropped unexecuted', async () => {
      // A queue may expire with its longest-lived marker (Redis): the fresh call, sent half an
      // expiry later, keeps the queue alive past the first call's expiry.
      const expiryMs = 3000;
      const h = await open();
      const api = h.newApi();
      const expired = newCall(api, 'late', {}, h.result.returnPath, expiryMs);
      await h.rpc.send(expired);
      await new Promise((resolve) => setTimeout(resolve, expiryMs / 2));
      const fresh = newCall(api, 'fresh', {}, h.result.returnPath, expiryMs);
      await h.rpc.send(fresh);
      await new Promise((resolve) => setTimeout(resolve, expiryMs / 2 + 200));
      const consumer = h.rpc.consume([api]);
      assert.deepEqual(asSent(await within(consumer.next(10), 5000, 'next()')), [fresh]);
      assert.ok(h.records.some((r) => r.msg === 'dropped an expired RPC call' && r['id'] === expired.id));
      await consumer.close();
    });

    test("a call taken from a backlog carries its caller's deadline: what its marker had left", async () => {
      const h = await open();
      const api = h.newApi();
      const call = newCall(api, 'slow', {}, h.result.returnPath, 4000);
      const sentAt = Date.now();
      await h.rpc.send(call);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const consumer = h.rpc.consume([api]);
      const [taken] = await takeAll(consumer, 1);
      // About 3 s left of the 4 s: the second it waited in the queue is gone from it.
      const left = taken!.deadline! - Date.now();
      assert.ok(taken!.deadline! <= sentAt + 4000 + 50 && left > 1500 && left < 3100, `deadline ${left} ms from now`);
      assert.equal(taken!.timeoutMs, 4000, 'the caller\'s timeout travels with the call');
      await consumer.close();
    });

    test('a withdrawn call still queued is dropped, and the servers of its API hear the withdrawal', async () => {
      const h = await open();
      const api = h.newApi();
      const heard: string[] = [];
      const watch = h.rpc.watchCancels((id) => heard.push(id));
      await watch.add(api);
      const withdrawn = newCall(api, 'gone', {}, h.result.returnPath, 5000);
      const kept = newCall(api, 'kept', {}, h.result.returnPath, 5000);
      await h.rpc.send(withdrawn);
      await h.rpc.send(kept);
      await h.rpc.cancel(api, withdrawn.id);
      const consumer = h.rpc.consume([api]);
      assert.deepEqual(asSent(await takeAll(consumer, 1)), [kept]);
      await waitForValue(() => heard.length > 0 || undefined, 'the withdrawal to be heard');
      assert.deepEqual(heard, [withdrawn.id]);
      // Another API's withdrawals are not heard.
      await h.rpc.cancel(h.newApi(), kept.id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(heard, [withdrawn.id]);
      await watch.close();
      await consumer.close();
    });

    test('a malformed call is logged and dropped; the calls behind it still come out', async () => {
      const h = await open();
      const api = h.newApi();
      await h.pushRawCall(api, 'this is not json');
      await h.pushRawCall(api, JSON.stringify({ kwargs: {}, metadata: { api_name: api, id: 'x' } }));
      const good = newCall(api, 'good', { n: 1 }, h.result.returnPath);
      await h.rpc.send(good);
      const consumer = h.rpc.consume([api]);
      assert.deepEqual(asSent(await takeAll(consumer, 1)), [good]);
      const warnings = h.records.filter((r) => r.msg === 'dropped a malformed RPC call');
      assert.equal(warnings.length, 2);
      assert.equal(warnings[0]!['blob'], 'this is not json');
      await consumer.close();
    });

    test('1,000 queued calls come out in batches of the size asked for', async () => {
      const h = await open();
      const api = h.newApi();
      const calls = Array.from({ length: 1000 }, (_, i) => newCall(api, 'bulk', { i }, h.result.returnPath));
      await Promise.all(calls.map((call) => h.rpc.send(call)));
      const consumer = h.rpc.consume([api]);
      const seen: number[] = [];
      for (let batch = 0; batch < 10; batch++) {
        const out = await within(consumer.next(100), 5000, 'next(100)');
        assert.equal(out.length, 100);
        seen.push(...out.map((call) => call.kwargs['i'] as number));
      }
      assert.deepEqual(seen, calls.map((_, i) => i));
      await consumer.close();
    });

    test('a busy API does not starve another one served by the same consumer', async () => {
      const h = await open();
      const busy = h.newApi();
      const quiet = h.newApi();
      await Promise.all(Array.from({ length: 300 }, () => h.rpc.send(newCall(busy, 'work', {}, h.result.returnPath))));
      await Promise.all(Array.from({ length: 10 }, () => h.rpc.send(newCall(quiet, 'work', {}, h.result.returnPath))));
      const consumer = h.rpc.consume([busy, quiet]);
      const first = await within(consumer.next(20), 5000, 'next(20)');
      assert.equal(first.length, 20);
      assert.equal(first.filter((call) => call.api === quiet).length, 10);
      await takeAll(consumer, 290);
      await consumer.close();
    });

    test('one return path serves many concurrent calls, matched by call id', async () => {
      const caller = await open();
      const server = await open();
      const api = caller.newApi();
      const consumer = server.rpc.consume([api]);
      const serving = (async () => {
        for (let calls = await consumer.next(50); calls.length > 0; calls = await consumer.next(50)) {
          await Promise.all(
            calls.map((call) =>
              server.result.send(call.returnPath, { id: randomUUID(), rpcMessageId: call.id, result: { echo: call.kwargs['n'] }, error: false }),
            ),
          );
        }
      })();
      const waiting = new Map<string, (result: RpcResult) => void>();
      caller.result.listen((result) => waiting.get(result.rpcMessageId)?.(result));
      const results = await within(
        Promise.all(
          Array.from({ length: 200 }, (_, n) => {
            const call = newCall(api, 'echo', { n }, caller.result.returnPath);
            const answered = new Promise<RpcResult>((resolve) => waiting.set(call.id, resolve));
            return caller.rpc.send(call).then(() => answered);
          }),
        ),
        10000,
        'results',
      );
      results.forEach((result, n) => assert.deepEqual(result.result, { echo: n }));
      await consumer.close();
      await serving;
    });

    test('an error result carries its trace, and its text gives back the error name and message', async () => {
      const caller = await open();
      const server = await open();
      const received: RpcResult[] = [];
      caller.result.listen((result) => received.push(result));
      const rpcMessageId = randomUUID();
      await server.result.send(caller.result.returnPath, {
        id: randomUUID(),
        rpcMessageId,
        result: 'RangeError: too big',
        error: true,
        trace: 'RangeError: too big\n    at check (auth.ts:1:1)',
      });
      await eventually(() => received.length === 1, 5000, 'error result');
      assert.deepEqual(received[0], {
        id: received[0]!.id,
        rpcMessageId,
        result: 'RangeError: too big',
        error: true,
        trace: 'RangeError: too big\n    at check (auth.ts:1:1)',
      });
      assert.deepEqual(parseRemoteError(received[0]!.result as string), { name: 'RangeError', message: 'too big' });
    });

    test('Python-style results (sort_keys JSON, repr error text) are delivered; malformed ones are skipped', async () => {
      const caller = await open();
      const received: RpcResult[] = [];
      caller.result.listen((result) => received.push(result));
      const ok = randomUUID();
      const failed = randomUUID();
      await caller.pushRawResult(caller.result.returnPath, '{"kwargs": {"result": true}, "metadata": {"error": false, "id": "r1", "rpc_message_id": "' + ok + '"}}');
      await caller.pushRawResult(caller.result.returnPath, '{"metadata": {"id": "r2"}}');
      await caller.pushRawResult(
        caller.result.returnPath,
        '{"kwargs": {"result": "ValueError(\'bad\')"}, "metadata": {"error": true, "id": "r3", "rpc_message_id": "' +
          failed +
          '", "trace": "Traceback (most recent call last):\\n  ..."}}',
      );
      await eventually(() => received.length === 2, 5000, 'Python results');
      // Results are matched by id, not by order (LPUSH + BLPOP hands a burst out newest first).
      const byId = new Map(received.map((result) => [result.id, result]));
      assert.deepEqual(byId.get('r1'), { id: 'r1', rpcMessageId: ok, result: true, error: false });
      const error = byId.get('r3');
      assert.equal(error?.rpcMessageId, failed);
      assert.equal(error.error, true);
      assert.equal(error.trace, 'Traceback (most recent call last):\n  ...');
      assert.deepEqual(parseRemoteError(error.result as string), { name: 'ValueError', message: 'bad' });
      assert.ok(caller.records.some((r) => r.msg === 'skipped a malformed RPC result'));
    });

    test('a result for a return path of an unknown scheme is refused, naming the path', async () => {
      const h = await open();
      await assert.rejects(
        h.result.send('amqp://somewhere', { id: 'a', rpcMessageId: 'b', result: null, error: false }),
        /Unsupported return path "amqp:\/\/somewhere"/,
      );
    });

    test('close ends a waiting next() with [], later calls too, and refuses new sends', async () => {
      const h = await open();
      const api = h.newApi();
      const consumer = h.rpc.consume([api]);
      const waiting = consumer.next(10);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await within(consumer.close(), 5000, 'consumer.close()');
      assert.deepEqual(asSent(await within(waiting, 5000, 'next() after close')), []);
      assert.deepEqual(await consumer.next(10), []);
      await h.rpc.close();
      await assert.rejects(h.rpc.send(newCall(api, 'x', {}, h.result.returnPath)), (error: unknown) => error instanceof BusClosedError);
    });

    test('schemas are stored, loaded and forgotten once their ttl passes', async () => {
      const h = await open();
      const lasting = h.newApi();
      const brief = h.newApi();
      const schema = { rpcs: { check: { parameters: { type: 'object' }, response: { type: 'boolean' } } }, events: {} };
      try {
        await h.schema.store(lasting, schema, 60000);
        await h.schema.store(brief, { rpcs: {}, events: {} }, 30);
        await new Promise((resolve) => setTimeout(resolve, 150));
        const loaded = await h.schema.load();
        assert.deepEqual(loaded[lasting], schema);
        assert.equal(brief in loaded, false);
        assert.deepEqual([await h.schema.has(lasting), await h.schema.has(brief), await h.schema.has(h.newApi())], [true, false, false]);
      } finally {
        await h.forgetSchema(lasting);
        await h.forgetSchema(brief);
      }
    });
  });
}
