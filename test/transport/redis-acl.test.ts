/**
 * The least-privilege Redis ACL of docs/configuration.md ("Redis ACL"), applied as written on
 * a private redis-server: a serving process, a caller and `lightbus inspect` each work under
 * their own user, and the caller's rules are as tight as the doc says.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { NoServerError, createBus, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';
import { capturingLogger } from '../helpers/events.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName, waitFor } from '../helpers/wait.js';
import { ensureBuilt, jsonLines, ROOT, runCli } from '../inspect/cli-runner.js';

/** The `ACL SETUSER` lines of the doc, by user name: the test runs exactly what users copy. */
function documentedAcl(): Map<string, string[]> {
  const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Redis ACL'));
  const users = new Map<string, string[]>();
  for (const match of section.matchAll(/^ACL SETUSER (\S+) (.+)$/gm)) {
    users.set(match[1]!, [...(users.get(match[1]!) ?? []), ...(match[2]!.match(/\([^)]*\)|\S+/g) ?? [])]);
    // A selector, `(+lpop ~lightbus:results:*)`, is one rule: redis-cli passes it as one argument.
  }
  return users;
}

const PASSWORD = 'pw-for-tests';
function aclApi(name: string) {
  return defineApi(uniqueName(name), {
    rpcs: { echo: rpc({ text: Type.String() }, Type.String()) },
    events: { ping: event({ n: Type.Integer() }) },
  });
}
const api = aclApi('acl');

/** `server` serves and listens to `served`, `caller` calls it and `server` fires: answered and heard. */
async function serveCallFire(server: Bus, caller: Bus, served: ReturnType<typeof aclApi>): Promise<void> {
  const heard: number[] = [];
  await server.serve(served, { echo: ({ text }) => text });
  await server.listen(served.events.ping, { name: 'ears' }, (incoming) => {
    heard.push(incoming.params.n);
  });
  assert.equal(await caller.call(served.rpcs.echo, { text: 'hello' }, { timeoutMs: 10_000 }), 'hello');
  await server.fire(served.events.ping, { n: 1 });
  await waitFor(() => heard.includes(1), 'the event heard');
}

let redis: RedisServer;
let admin: Redis;
const warnings: unknown[][] = [];
const consoleWarn = console.warn;

function urlOf(user: string): string {
  return `redis://${user}:${PASSWORD}@127.0.0.1:${redis.port}/0`;
}

before(async () => {
  ensureBuilt();
  redis = await startRedisServer();
  admin = new Redis(redis.url);
  const acl = documentedAcl();
  assert.deepEqual([...acl.keys()].sort(), ['lightbus-caller', 'lightbus-inspect', 'lightbus-serve']);
  for (const [user, rules] of acl) {
    // The doc's password placeholder is replaced by the test's.
    await admin.call('ACL', 'SETUSER', user, ...rules.map((rule) => (rule.startsWith('>') ? `>${PASSWORD}` : rule)));
  }
  // ioredis warns through console.warn when its ready check's INFO is refused.
  console.warn = (...args: unknown[]) => {
    warnings.push(args);
    consoleWarn(...args);
  };
});

after(async () => {
  console.warn = consoleWarn;
  admin?.disconnect();
  await redis?.stop();
});

describe('the documented Redis ACL', () => {
  let server: Bus;
  let caller: Bus;
  const serverLog = capturingLogger();
  const callerLog = capturingLogger();

  after(async () => {
    await Promise.all([server?.close(), caller?.close()]);
  });

  test('serve and call an RPC, fire and listen to an event, each as its own user', async () => {
    server = createBus({ config: { serviceName: 'acl-server', redis: { url: urlOf('lightbus-serve') } }, logger: serverLog.logger });
    caller = createBus({ config: { serviceName: 'acl-caller', redis: { url: urlOf('lightbus-caller') } }, logger: callerLog.logger });
    await serveCallFire(server, caller, api);
    assert.deepEqual(warnings, [], 'no ioredis warning (its ready check needs INFO, which the ACL does not allow)');
    // Let the heartbeats and schema reads of both happen, then: nothing was refused.
    await caller.schemas();
    const troubles = [...serverLog.records, ...callerLog.records].filter((r) => r.level >= 40);
    assert.deepEqual(troubles, []);
    // Telling that nobody serves an API takes reading the heartbeats and the API's schema key: refused at once, not timed out.
    const unserved = await caller.call(`${uniqueName('nobody')}.x`, {}, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    assert.ok(unserved instanceof NoServerError, `expected NoServerError, got ${String(unserved)}`);
  });

  test('`lightbus inspect --json` as the inspect user', async () => {
    const run = await runCli(['inspect', '--json', '--redis-url', urlOf('lightbus-inspect')]);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /ready check|NOPERM/);
    const rows = jsonLines(run.stdout);
    assert.ok(rows.some((row) => row['kind'] === 'api' && row['api'] === api.name && row['schema'] === true), run.stdout);
    assert.ok(rows.some((row) => row['kind'] === 'process' && row['service'] === 'acl-server'), run.stdout);
    assert.ok(rows.some((row) => row['kind'] === 'group' && row['group'] === 'acl-server-ears'), run.stdout);
    assert.ok(rows.some((row) => row['kind'] === 'queue' && row['api'] === api.name), run.stdout);
  });

  test('the caller user can do no more than call: no XADD, no DEL or write of the schemas, no popping of calls', async () => {
    const asCaller = new Redis(urlOf('lightbus-caller'), { enableReadyCheck: false });
    try {
      const refused = async (command: string, ...args: string[]) =>
        assert.rejects(asCaller.call(command, ...args), /NOPERM/, `${command} ${args.join(' ')} should be refused`);
      await refused('XADD', `${api.name}.*:stream`, '*', 'f', 'v');
      await refused('DEL', 'schemas');
      await refused('SADD', 'schemas', 'x');
      await refused('SET', `schema:${api.name}`, '{}');
      await refused('LPOP', `${api.name}:rpc_queue`);
      await refused('DEL', 'lightbus:dead_letter:stream');
      await refused('GET', 'some:other:key');
      await refused('FLUSHALL');
      assert.equal(await admin.scard('schemas'), 1);
    } finally {
      asCaller.disconnect();
    }
  });

  test('the inspect user reads but cannot write', async () => {
    const asInspect = new Redis(urlOf('lightbus-inspect'), { enableReadyCheck: false });
    try {
      await assert.rejects(asInspect.call('XADD', `${api.name}.*:stream`, '*', 'f', 'v'), /NOPERM/);
      await assert.rejects(asInspect.call('RPUSH', `${api.name}:rpc_queue`, 'x'), /NOPERM/);
      await assert.rejects(asInspect.call('DEL', 'schemas'), /NOPERM/);
    } finally {
      asInspect.disconnect();
    }
  });

  // Last: it publishes a second schema, which the caller test above counts.
  test("with redis.keys 'hash-tagged': serve and call an RPC, fire and listen to an event, each as its own user", async (t) => {
    const tagged = aclApi('acltagged');
    const log = capturingLogger();
    const keys = 'hash-tagged' as const;
    const taggedServer = createBus({ config: { serviceName: 'acl-tagged-server', redis: { url: urlOf('lightbus-serve'), keys } }, logger: log.logger });
    const taggedCaller = createBus({ config: { serviceName: 'acl-tagged-caller', redis: { url: urlOf('lightbus-caller'), keys } }, logger: log.logger });
    t.after(() => Promise.all([taggedServer.close(), taggedCaller.close()]));
    await serveCallFire(taggedServer, taggedCaller, tagged);
    assert.equal(await admin.exists(`lightbus:{${tagged.name}}.*:stream`), 1, 'under the tagged name');
    assert.deepEqual(log.records.filter((r) => r.level >= 40), []);
  });
});
