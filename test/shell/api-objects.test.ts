/** The shell's API objects, over a memory bus: built from the schemas, put in scope, callable. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, test } from 'node:test';
import { createBus, defineApi, event, MemoryStore, rpc, Type, UnknownApiError } from '../../src/index.js';
import { ApiObjects } from '../../src/shell/api-objects.js';

const store = new MemoryStore();
const bus = createBus({ config: { serviceName: 'shell-test', transport: 'memory', logLevel: 'silent' }, memoryStore: store });
after(() => bus.close());

const auth = defineApi('auth', {
  rpcs: { check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()), then: rpc({}, Type.Null()) },
  events: { user_registered: event({ username: Type.String() }) },
});
const billing = defineApi('my_company.billing', { rpcs: { invoice: rpc({ id: Type.Integer() }, Type.String()) } });
const processApi = defineApi('process', { rpcs: { restart: rpc({}, Type.Null()) } });

test('one object per API in scope, nested by dots, calling and firing through the bus', async () => {
  await bus.serve(auth, { check_password: ({ password }) => password === 'secret', then: () => null });
  await bus.serve(billing, { invoice: ({ id }) => `invoice ${id}` });
  await bus.serve(processApi, { restart: () => null });
  const objects = new ApiObjects(bus, { colors: false }, new Set(['bus', 'api']));
  const context: Record<string, any> = { process, mine: 1 }; // eslint-disable-line @typescript-eslint/no-explicit-any
  objects.update(await bus.schemas(), context);

  assert.equal(await context['auth'].check_password({ username: 'admin', password: 'secret' }), true);
  assert.equal(await context['my_company'].billing.invoice({ id: 7 }), 'invoice 7');
  assert.match(JSON.stringify(await context['auth'].user_registered({ username: 'ada' })), /"streamId"/);
  assert.equal(context['process'], process, "a global of JavaScript keeps its name; api('process') reaches the API");
  assert.equal(typeof objects.api('process')['restart'], 'function');
  assert.equal(context['auth'].then, undefined, 'no `then` member: the object must not look like a promise');
  assert.deepEqual(objects.membersAt(context, ['auth']), ['check_password', 'user_registered']);
  assert.deepEqual(objects.membersAt(context, ['my_company']), ['billing']);
  assert.equal(objects.membersAt(context, ['mine']), undefined);
  assert.match(inspect(context['auth']), /^auth {2}2 RPCs, 1 event\n {2}rpc {3}check_password\(username: string, password: string\) -> boolean/);
  assert.equal(inspect(context['auth'].check_password), '[rpc auth.check_password(username: string, password: string) -> boolean]');
  assert.throws(() => objects.api('nope'), (e: unknown) => e instanceof UnknownApiError && /bus\.call\('nope\.procedure'/.test(e.message));

  // A user's variable of the same name stays; an API gone from the bus leaves the scope.
  context['auth'] = 'my own';
  const withoutBilling = await bus.schemas();
  delete withoutBilling['my_company.billing'];
  objects.update(withoutBilling, context);
  assert.equal(context['auth'], 'my own');
  assert.equal(context['my_company'], undefined);
});
