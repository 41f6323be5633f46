/**
 * The bus API as a user sees it, run once over Redis and once over the memory transport:
 * both must behave the same.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createBus,
  defineApi,
  event,
  rpc,
  Type,
  RemoteError,
  NoServerError,
  RpcTimeoutError,
  ValidationError,
  type Bus,
  type CreateBusOptions,
} from '../../src/index.js';
import { uniqueName, waitFor } from '../helpers/wait.js';

export interface SuiteSetup {
  /** Options for a bus; buses from the same setup share one "Redis". */
  busOptions(extra?: CreateBusOptions['config']): CreateBusOptions;
  cleanup(apis: string[]): Promise<void>;
}

export function busSuite(name: string, setup: () => Promise<SuiteSetup>): void {
  describe(`bus over ${name}`, () => {
    let env: SuiteSetup;
    const apiNames: string[] = [];
    const buses: Bus[] = [];
    const newBus = (config: CreateBusOptions['config'] = {}, extra: Partial<CreateBusOptions> = {}) => {
      const bus = createBus({ ...env.busOptions({ serviceName: uniqueName('svc'), logLevel: 'silent', ...config }), ...extra });
      buses.push(bus);
      return bus;
    };
    const newApi = () => {
      const apiName = uniqueName('bus');
      apiNames.push(apiName);
      return defineApi(apiName, {
        rpcs: {
          add: rpc({ a: Type.Number(), b: Type.Number() }, Type.Number()),
          greet: rpc({ name: Type.String() }, Type.String()),
          fail: rpc({}, Type.Null()),
          depth: rpc({ n: Type.Integer() }, Type.Integer()),
        },
        events: {
          happened: event({ what: Type.String() }),
          other: event({ n: Type.Integer() }),
        },
      });
    };

    before(async () => {
      env = await setup();
    });
    after(async () => {
      await Promise.all(buses.map((b) => b.close()));
      await env.cleanup(apiNames);
    });

    test('serves and calls RPCs, sync and async, with typed results', async () => {
      const api = newApi();
      const server = newBus();
      await server.serve(api, {
        add: ({ a, b }) => a + b,
        greet: async ({ name }) => `hello ${name}`,
        fail: () => null,
        depth: ({ n }) => n,
      });
      const client = newBus();
      const sum: number = await client.call(api.rpcs.add, { a: 2, b: 3 });
      assert.equal(sum, 5);
      assert.equal(await client.call(api.rpcs.greet, { name: 'ada' }), 'hello ada');
      assert.equal(await client.call(`${api.name}.add`, { a: 1, b: 1 }), 2, 'a call by name reaches the same procedure');
    });

    test('a remote failure carries the remote error name, message and stack', async () => {
      const api = newApi();
      const server = newBus();
      await server.serve(api, {
        add: ({ a, b }) => a + b,
        greet: ({ name }) => name,
        fail: () => {
          throw new RangeError('out of range on purpose');
        },
        depth: ({ n }) => n,
      });
      const error = await newBus().call(api.rpcs.fail, {}).catch((e: unknown) => e);
      assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
      assert.equal(error.remoteName, 'RangeError');
      assert.match(error.message, /out of range on purpose/);
      assert.match(error.remoteStack ?? '', /RangeError: out of range on purpose/);
      // The server kept serving.
      assert.equal(await newBus().call(api.rpcs.add, { a: 1, b: 2 }), 3);
    });

    test('bad parameters are refused at the caller, and at the server for callers without the schema', async () => {
      const api = newApi();
      const server = newBus();
      await server.serve(api, { add: ({ a, b }) => a + b, greet: ({ name }) => name, fail: () => null, depth: ({ n }) => n });
      const client = newBus();
      const local = await client.call(api.rpcs.add, { a: 'x' as unknown as number, b: 1 }).catch((e: unknown) => e);
      assert.ok(local instanceof ValidationError);
      assert.equal(local.api, api.name);
      assert.equal(local.member, 'add');
      assert.deepEqual(local.issues.map((i) => i.path), ['/a']);
      // A caller that does not know the API (as a Python peer would not) is answered with a validation error.
      const remote = await client.call(`${api.name}.add`, { a: 1 }).catch((e: unknown) => e);
      assert.ok(remote instanceof ValidationError, `expected ValidationError, got ${String(remote)}`);
      assert.match(remote.message, /\/b/);
    });

    test('calling an API nobody serves fails at once with NoServerError naming the fix', async () => {
      const unserved = uniqueName('nobody');
      apiNames.push(unserved);
      const error = await newBus()
        .call(`${unserved}.anything`, {}, { timeoutMs: 5000 })
        .catch((e: unknown) => e);
      assert.ok(error instanceof NoServerError, `expected NoServerError, got ${String(error)}`);
      assert.equal(error.api, unserved);
      assert.equal(error.procedure, 'anything');
      assert.match(error.message, new RegExp(`no process is serving API "${unserved}".*start a process that serves it, or check the API name.*apis\\.${unserved}\\.whenNoServer`));
    });

    test("under whenNoServer 'wait', calling an API nobody serves times out and says so", async () => {
      const unserved = uniqueName('nobody');
      // Its call stays queued (only a server would drop it): cleaned up with the suite's APIs.
      apiNames.push(unserved);
      const error = await newBus({ apis: { [unserved]: { whenNoServer: 'wait' } } })
        .call(`${unserved}.anything`, {}, { timeoutMs: 300 })
        .catch((e: unknown) => e);
      assert.ok(error instanceof RpcTimeoutError, `expected RpcTimeoutError, got ${String(error)}`);
      assert.match(error.message, /no process is serving/);
      assert.equal(error.timeoutMs, 300);
    });

    test('a handler can call the API it serves, 50 deep, with one slot', async () => {
      const api = newApi();
      const bus = newBus({}, { concurrency: 1 });
      await bus.serve(api, {
        add: ({ a, b }) => a + b,
        greet: ({ name }) => name,
        fail: () => null,
        depth: async ({ n }) => (n === 0 ? 0 : 1 + (await bus.call(api.rpcs.depth, { n: n - 1 }, { timeoutMs: 20_000 }))),
      });
      assert.equal(await bus.call(api.rpcs.depth, { n: 50 }, { timeoutMs: 30_000 }), 50);
    });

    test('fires events and delivers them to each listening service once', async () => {
      const api = newApi();
      const a1 = newBus({ serviceName: 'svc_a_' + api.name, processName: 'a1' });
      const a2 = newBus({ serviceName: 'svc_a_' + api.name, processName: 'a2' });
      const b = newBus({ serviceName: 'svc_b_' + api.name });
      const seen = { a: [] as string[], b: [] as string[] };
      await Promise.all([
        a1.listen(api.events.happened, { name: 'l' }, (e) => void seen.a.push(e.params.what)).ready,
        a2.listen(api.events.happened, { name: 'l' }, (e) => void seen.a.push(e.params.what)).ready,
        b.listen(api.events.happened, { name: 'l' }, (e) => void seen.b.push(e.params.what)).ready,
      ]);
      const firer = newBus();
      const fired = [];
      for (let i = 0; i < 20; i++) fired.push(await firer.fire(api.events.happened, { what: `e${i}` }));
      assert.match(fired[0]!.id, /^[0-9a-f-]{36}$/);
      assert.match(fired[0]!.streamId, /^\d+-\d+$/);
      await waitFor(() => seen.a.length >= 20 && seen.b.length >= 20, 'both services to get every event');
      assert.deepEqual([...seen.a].sort(), [...seen.b].sort(), 'service a (two processes) got each event once');
      assert.equal(new Set(seen.a).size, 20);
    });

    test('one listener hears several events of several APIs; events are validated', async () => {
      const api1 = newApi();
      const api2 = newApi();
      const bus = newBus();
      const got: string[] = [];
      await bus.listen([api1.events.happened, api2.events.other], { name: 'multi' }, (e) => {
        got.push(`${e.api}.${e.name}`);
      }).ready;
      await bus.fire(api1.events.happened, { what: 'x' });
      await bus.fire(api2.events.other, { n: 1 });
      await bus.fire(api1.events.other, { n: 2 }); // not listened to: skipped
      await waitFor(() => got.length >= 2, 'two events');
      assert.deepEqual(got.sort(), [`${api1.name}.happened`, `${api2.name}.other`].sort());
      await assert.rejects(bus.fire(api1.events.happened, { what: 3 as unknown as string }), ValidationError);
    });

    test('since replays from the start, from a stream id, or from a time', async () => {
      const api = newApi();
      const bus = newBus();
      const first = await bus.fire(api.events.happened, { what: 'one' });
      await new Promise((r) => setTimeout(r, 5));
      const middle = new Date();
      await new Promise((r) => setTimeout(r, 5));
      await bus.fire(api.events.happened, { what: 'two' });
      const all: string[] = [];
      const afterFirst: string[] = [];
      const afterTime: string[] = [];
      const fresh: string[] = [];
      await Promise.all([
        bus.listen(api.events.happened, { name: 'all', since: '0' }, (e) => void all.push(e.params.what)).ready,
        bus.listen(api.events.happened, { name: 'after_first', since: first.streamId }, (e) => void afterFirst.push(e.params.what)).ready,
        bus.listen(api.events.happened, { name: 'after_time', since: middle }, (e) => void afterTime.push(e.params.what)).ready,
        bus.listen(api.events.happened, { name: 'fresh' }, (e) => void fresh.push(e.params.what)).ready,
      ]);
      await bus.fire(api.events.happened, { what: 'three' });
      await waitFor(() => all.length >= 3 && afterFirst.length >= 2 && afterTime.length >= 2 && fresh.length >= 1, 'replays');
      assert.deepEqual(all, ['one', 'two', 'three']);
      assert.deepEqual(afterFirst, ['two', 'three']);
      assert.deepEqual(afterTime, ['two', 'three']);
      assert.deepEqual(fresh, ['three']);
    });

    test('onError acknowledge-and-log goes on; stop-listener stops only that listener', async () => {
      const api = newApi();
      const bus = newBus();
      const logged: string[] = [];
      const stopped: string[] = [];
      const other: string[] = [];
      await Promise.all([
        bus.listen(api.events.happened, { name: 'ack', onError: 'acknowledge-and-log' }, (e) => {
          logged.push(e.params.what);
          if (e.params.what === 'bad') throw new Error('boom');
        }).ready,
        bus.listen(api.events.happened, { name: 'stopper', onError: 'stop-listener' }, (e) => {
          stopped.push(e.params.what);
          if (e.params.what === 'bad') throw new Error('boom');
        }).ready,
        bus.listen(api.events.other, { name: 'other' }, (e) => void other.push(String(e.params.n))).ready,
      ]);
      await bus.fire(api.events.happened, { what: 'bad' });
      await bus.fire(api.events.happened, { what: 'good' });
      await bus.fire(api.events.other, { n: 1 });
      await waitFor(() => logged.length >= 2 && other.length >= 1, 'the surviving listeners');
      assert.deepEqual(logged, ['bad', 'good']);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(stopped, ['bad'], 'the stopped listener handled nothing after its failure');
    });

    test('onError retry retries in place, then sets the event aside', async () => {
      const api = newApi();
      const bus = newBus();
      let attempts = 0;
      const after: string[] = [];
      await bus.listen(api.events.happened, { name: 'retrier', onError: { retry: { maxAttempts: 3, backoffMs: 5 } } }, (e) => {
        if (e.params.what === 'bad') {
          attempts++;
          throw new Error('always fails');
        }
        after.push(e.params.what);
      }).ready;
      await bus.fire(api.events.happened, { what: 'bad' });
      await bus.fire(api.events.happened, { what: 'next' });
      await waitFor(() => after.length >= 1, 'the event behind the failing one');
      assert.equal(attempts, 3);
    });

    test('close stops serving: later calls time out, nothing hangs', async () => {
      const api = newApi();
      const server = newBus();
      await server.serve(api, { add: ({ a, b }) => a + b, greet: ({ name }) => name, fail: () => null, depth: ({ n }) => n });
      await server.close();
      await assert.rejects(newBus().call(api.rpcs.add, { a: 1, b: 1 }, { timeoutMs: 300 }), RpcTimeoutError);
    });
  });
}
