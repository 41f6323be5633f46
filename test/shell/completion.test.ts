/** Tab completion of bus names: the pure part, line and schemas in, candidates out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiSchema } from '../../src/api/define.js';
import { completeBusNames } from '../../src/shell/completion.js';

const object = { type: 'object', properties: {} };
const schemas: Record<string, ApiSchema> = {
  auth: {
    rpcs: { check_password: { parameters: object, response: { type: 'boolean' } }, register_user: { parameters: object, response: { type: 'null' } } },
    events: { user_registered: { parameters: object } },
  },
  audit: { rpcs: {}, events: { entry_written: { parameters: object } } },
  'my_company.billing': { rpcs: { invoice: { parameters: object, response: object } }, events: {} },
};
const complete = (line: string, membersAt?: (path: string[]) => string[] | undefined) =>
  completeBusNames(line, { schemas, ...(membersAt ? { membersAt } : {}) });

test('inside bus.call(: API names first, one level at a time, then RPCs with the quote closed', () => {
  assert.deepEqual(complete("bus.call('au"), [['auth.'], 'au'], 'audit has no RPC, so only auth');
  assert.deepEqual(complete("await bus.call('auth.ch"), [["auth.check_password'"], 'auth.ch']);
  assert.deepEqual(complete('bus.call("auth.'), [['auth.check_password"', 'auth.register_user"'], 'auth.']);
  assert.deepEqual(complete("bus.call('my"), [['my_company.billing.'], 'my']);
  assert.deepEqual(complete("bus.call('my_company.billing.in"), [["my_company.billing.invoice'"], 'my_company.billing.in']);
  assert.deepEqual(complete("bus.call('zz"), [[], 'zz']);
});

test('inside bus.fire( and bus.listen( (one event or a list): events only', () => {
  assert.deepEqual(complete("bus.fire('a"), [['audit.', 'auth.'], 'a']);
  assert.deepEqual(complete("bus.fire('auth."), [["auth.user_registered'"], 'auth.']);
  assert.deepEqual(complete("bus.listen(['auth.user_registered', 'audit.e"), [["audit.entry_written'"], 'audit.e']);
});

test("api(' completes whole API names; .schema completes APIs and every member", () => {
  assert.deepEqual(complete("api('my"), [["my_company.billing'"], 'my']);
  assert.deepEqual(complete('.schema au'), [['audit.', 'auth.'], 'au']);
  assert.deepEqual(complete('.schema auth.'), [['auth.check_password', 'auth.register_user', 'auth.user_registered'], 'auth.']);
});

test('API objects of the scope complete their members; other lines are left to Node', () => {
  const membersAt = (path: string[]) => (path.join('.') === 'auth' ? ['check_password', 'register_user', 'user_registered'] : undefined);
  assert.deepEqual(complete('x = auth.ch', membersAt), [['auth.check_password'], 'auth.ch']);
  assert.deepEqual(complete('auth.', membersAt), [['auth.check_password', 'auth.register_user', 'auth.user_registered'], 'auth.']);
  assert.equal(complete('process.ver', membersAt), undefined, 'not an API object');
  assert.equal(complete("'auth.ch", membersAt), undefined, 'inside an unrelated string');
  assert.equal(complete("foo('au"), undefined, 'a string argument of some other function');
  assert.equal(complete('1 + 2'), undefined);
});
