// The pure parts of a reload's report: what changed between two registrations, and where a
// module that failed to load went wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeChanges, nothingChanged, registrationChanges } from '../../src/runtime/registration-changes.js';
import type { Registrations } from '../../src/runtime/protocol.js';
import { ModuleLoadError } from '../../src/errors.js';
import { formatLocation, loadErrorLocation } from '../../src/watch/load-error-location.js';

const schema = (rpc: string) => ({ rpcs: { [rpc]: { parameters: {}, response: {} } }, events: {} });

function registrations(part: Partial<Registrations>): Registrations {
  return { apis: [], listeners: [], tasks: [], hasStartHooks: false, hasStopHooks: false, ...part };
}

test('registrationChanges: added, changed (schema, events, schedule) and removed, by name', () => {
  const before = registrations({
    apis: [{ name: 'auth', schema: schema('check') }, { name: 'gone', schema: schema('x') }],
    listeners: [{ name: 'ears', events: [{ api: 'auth', event: 'a' }], onError: 'shutdown' }, { name: 'same', events: [{ api: 'auth', event: 'a' }], onError: 'shutdown' }],
    tasks: [{ name: 'tick', everyMs: 1000 }],
  });
  const after = registrations({
    apis: [{ name: 'auth', schema: schema('check2') }, { name: 'billing', schema: schema('pay') }],
    listeners: [{ name: 'ears', events: [{ api: 'auth', event: 'b' }], onError: 'shutdown' }, { name: 'same', events: [{ api: 'auth', event: 'a' }], onError: 'shutdown' }],
    tasks: [{ name: 'tick', everyMs: 2000 }],
  });
  const changes = registrationChanges(before, after);
  assert.deepEqual(changes.apis.added.map((a) => a.name), ['billing']);
  assert.deepEqual(changes.apis.changed.map((a) => a.name), ['auth']);
  assert.deepEqual(changes.apis.removed, ['gone']);
  assert.deepEqual(changes.listeners.changed.map((l) => l.name), ['ears']);
  assert.deepEqual(changes.tasks.changed.map((t) => t.name), ['tick']);
  assert.deepEqual(describeChanges(changes), ['+api:billing', '~api:auth', '-api:gone', '~listener:ears', '~task:tick']);
  assert.equal(nothingChanged(changes), false);
  assert.equal(nothingChanged(registrationChanges(after, after)), true);
});

test('loadErrorLocation: the parse error names the file it found; a throw at import its first user frame, not a dependency nor lightbus', () => {
  const parse = new ModuleLoadError('could not load /app/bus.ts: Error: ParseError: Unexpected token', '/app/bus.ts', {
    cause: Object.assign(new Error('ParseError: Unexpected token  \n /app/reply.ts:3:18'), { stack: 'Error: ParseError: Unexpected token  \n /app/reply.ts:3:18' }),
  });
  assert.deepEqual(loadErrorLocation(parse), { file: '/app/reply.ts', line: 3, column: 18 });
  assert.equal(formatLocation(loadErrorLocation(parse)!), '/app/reply.ts:3:18');

  const thrown = new Error('boom');
  thrown.stack = ['Error: boom', '    at check (/app/node_modules/dep/index.js:10:5)', `    at validate (${new URL('../../src/api/define.ts', import.meta.url).pathname}:4:1)`, '    at /app/config.ts:7:9', '    at /app/bus.ts:2:1'].join('\n');
  assert.deepEqual(loadErrorLocation(new ModuleLoadError('could not load /app/bus.ts: Error: boom', '/app/bus.ts', { cause: thrown })), { file: '/app/config.ts', line: 7, column: 9 });

  const plain = Object.assign(new Error('out of memory'), { stack: 'Error: out of memory' });
  assert.equal(loadErrorLocation(new ModuleLoadError('a worker failed to start: out of memory', '', { cause: plain })), undefined);
});
