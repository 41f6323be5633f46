import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';
import { ensureBuilt, jsonLines, runCli, tempConfig } from '../inspect/cli-runner.js';
import { closedPort } from '../helpers/ports.js';
import { uniqueName } from '../helpers/wait.js';

const REDIS_URL = 'redis://127.0.0.1:6379/0';

describe('lightbus call and fire (the real CLI against a served API)', () => {
  const prefix = uniqueName('t');
  const apiName = `${prefix}_auth`;
  const unserved = `${prefix}_nobody`;
  const api = defineApi(apiName, {
    rpcs: {
      check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()),
      echo: rpc({ code: Type.String(), n: Type.Number(), tags: Type.Array(Type.String()) }, Type.Object({ code: Type.String(), n: Type.Number(), tags: Type.Array(Type.String()) })),
      fail: rpc({}, Type.Null()),
    },
    events: { user_registered: event({ username: Type.String(), email: Type.String() }) },
  });
  let bus: Bus;
  const redis = new Redis(REDIS_URL);
  const config = tempConfig({ serviceName: `${prefix}_cli`, redis: { url: REDIS_URL } });
  const waiting = tempConfig({ serviceName: `${prefix}_cli`, redis: { url: REDIS_URL }, apis: { [unserved]: { whenNoServer: 'wait' } } });
  const cli = (...args: string[]) => runCli([...args, '--config', config.path]);

  before(async () => {
    ensureBuilt();
    bus = createBus({ config: { serviceName: `${prefix}_svc`, logLevel: 'silent', redis: { url: REDIS_URL } } });
    await bus.serve(api, {
      check_password: ({ username, password }) => username === 'admin' && password === 'secret',
      echo: (params) => params,
      fail: () => {
        throw new RangeError('kaboom');
      },
    });
  });

  after(async () => {
    await bus.close();
    const keys = [`${apiName}.*:stream`, `${apiName}:rpc_queue`, `${unserved}:rpc_queue`, `schema:${apiName}`];
    await redis.del(...keys);
    await redis.srem('schemas', apiName);
    redis.disconnect();
    config.remove();
    waiting.remove();
  });

  it('calls an RPC and prints its result as JSON (indented, or one line with --json), exit 0', async () => {
    const [plain, json] = await Promise.all([
      cli('call', `${apiName}.echo`, 'code=007', 'n=7', 'tags=["a","b"]'),
      cli('call', `${apiName}.echo`, '--params', '{"code": "x", "n": 1, "tags": []}', 'n=2', '--json'),
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    // code=007 stays the string "007": the schema says code is a string.
    assert.equal(plain.stdout, `${JSON.stringify({ code: '007', n: 7, tags: ['a', 'b'] }, null, 2)}\n`);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, '{"code":"x","n":2,"tags":[]}\n');
    const ok = await cli('call', `${apiName}.check_password`, 'username=admin', 'password=secret');
    assert.deepEqual([ok.code, ok.stdout], [0, 'true\n']);
  });

  it('exits 1 when the remote handler fails, with the remote error on stderr', async () => {
    const [plain, json] = await Promise.all([cli('call', `${apiName}.fail`), cli('call', `${apiName}.fail`, '--json')]);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, '');
    assert.match(plain.stderr, /RangeError: kaboom/);
    assert.equal(json.code, 1);
    const [error] = jsonLines(json.stderr);
    assert.equal(error!['error'].name, 'RemoteError');
    assert.equal(error!['error'].exitCode, 1);
    assert.equal(error!['error'].data.remoteName, 'RangeError');
  });

  it('exits 4 on parameters that do not match the schema, or a member the API does not have', async () => {
    const [missing, unknown] = await Promise.all([cli('call', `${apiName}.check_password`, 'username=admin'), cli('call', `${apiName}.nope`)]);
    assert.equal(missing.code, 4, missing.stderr);
    assert.match(missing.stderr, /password/);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.match(unknown.stderr, /has no RPC "nope" \(its RPCs: check_password, echo, fail\)/);
  });

  it('exits 4 at once when no process serves the API, with the fix on stderr (as JSON with --json)', async () => {
    const [plain, json] = await Promise.all([
      cli('call', `${unserved}.anything`, 'x=1', '--timeout', '60000'),
      cli('call', `${unserved}.anything`, 'x=1', '--timeout', '60000', '--json'),
    ]);
    assert.equal(plain.code, 4, plain.stderr);
    assert.match(plain.stderr, new RegExp(`^Error: RPC ${unserved}\\.anything not sent: no process is serving API "${unserved}"`));
    assert.match(plain.stderr, /start a process that serves it, or check the API name/);
    assert.equal(json.code, 4, json.stderr);
    const [error] = jsonLines(json.stderr);
    assert.deepEqual([error!['error'].name, error!['error'].exitCode, error!['error'].data], ['NoServerError', 4, { api: unserved, procedure: 'anything' }]);
  });

  it("exits 3 when no result comes in time (here: nobody serves the API and its whenNoServer is 'wait')", async () => {
    const result = await runCli(['call', `${unserved}.anything`, 'x=1', '--timeout', '300', '--config', waiting.path]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /timed out after 300 ms/);
  });

  it('exits 2 on usage errors', async () => {
    const results = await Promise.all([cli('call', 'no_dot'), cli('call', `${apiName}.echo`, 'not-a-pair'), cli('call'), cli('fire', `${apiName}.user_registered`, '--params', '[1]')]);
    for (const result of results) assert.equal(result.code, 2, result.stderr);
    assert.match(results[1]!.stderr, /"not-a-pair" is not a key=value parameter/);
  });

  it('exits 5 when Redis cannot be reached', async () => {
    const result = await runCli(['call', `${apiName}.echo`, '--redis-url', `redis://127.0.0.1:${await closedPort()}/0`]);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: .*ECONNREFUSED/);
  });

  it('fires an event and prints its ids, as a table or as JSON; the event is on the stream', async () => {
    const [table, json] = await Promise.all([
      cli('fire', `${apiName}.user_registered`, 'username=ada', 'email=ada@example.com'),
      cli('fire', `${apiName}.user_registered`, '--params', '{"username": "bob", "email": "bob@example.com"}', '--json'),
    ]);
    assert.equal(table.code, 0, table.stderr);
    const [header, row] = table.stdout.trim().split('\n');
    assert.match(header!, /^EVENT\s+MESSAGE ID\s+STREAM\s+STREAM ID$/);
    const [eventName, messageId, stream, streamId] = row!.split(/\s+/);
    assert.equal(eventName, `${apiName}.user_registered`);
    assert.equal(stream, `${apiName}.*:stream`);
    assert.equal(json.code, 0, json.stderr);
    const [fired] = jsonLines(json.stdout);
    assert.deepEqual(Object.keys(fired!), ['api', 'event', 'id', 'stream', 'streamId']);
    for (const [id, sid, username] of [[messageId, streamId, 'ada'], [fired!['id'], fired!['streamId'], 'bob']] as const) {
      const [entry] = (await redis.xrange(`${apiName}.*:stream`, sid!, sid!)) as Array<[string, string[]]>;
      assert.ok(entry, `entry ${sid} is on the stream`);
      const fields = entry[1];
      assert.equal(fields[fields.indexOf('id') + 1], id);
      assert.equal(fields[fields.indexOf(':username') + 1], JSON.stringify(username));
    }
  });

  it('exits 4 when fired parameters do not match the schema', async () => {
    const result = await cli('fire', `${apiName}.user_registered`, 'username=ada');
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /email/);
  });
});
