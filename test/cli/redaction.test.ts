/**
 * A Redis password never reaches the terminal: not in `cannot reach Redis` errors, not in
 * `--json` output, not when the shell prints the bus. The passwords hold what a password may
 * hold unencoded (quotes, spaces), which once ended the redaction early.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBus } from '../../src/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { ensureBuilt, ROOT, runCli } from '../inspect/cli-runner.js';
import { closedPort } from '../helpers/ports.js';

const SECRET = 's3cret';
const PASSWORDS = [`it's-${SECRET}`, `say"${SECRET}"`, `two words ${SECRET}`];


describe('passwords in Redis URLs stay out of the output', () => {
  let port: number;
  let redis: RedisServer;
  before(async () => {
    ensureBuilt();
    port = await closedPort();
    redis = await startRedisServer();
    const admin = new Redis(redis.url);
    await admin.call('ACL', 'SETUSER', 'u', 'on', `>${PASSWORDS[0]}`, '~*', '&*', '+@all');
    admin.disconnect();
  });
  after(() => redis?.stop());

  for (const password of PASSWORDS) {
    it(`call, fire, inspect and dumpschema against an unreachable Redis, password ${JSON.stringify(password)}`, async () => {
      const url = `redis://u:${password}@127.0.0.1:${port}/0`;
      const runs = await Promise.all([
        runCli(['call', 'auth.check', '--redis-url', url]),
        runCli(['call', 'auth.check', '--redis-url', url, '--json']),
        runCli(['fire', 'auth.registered', '--redis-url', url, '--json']),
        runCli(['inspect', '--redis-url', url, '--json']),
        runCli(['dumpschema', '--redis-url', url, '--timeout', '300']),
      ]);
      for (const run of runs) {
        assert.notEqual(run.code, 0);
        assert.match(run.stdout + run.stderr, /redis:\/\/u:\*\*\*@127\.0\.0\.1/, run.stdout + run.stderr);
        assert.ok(!(run.stdout + run.stderr).includes(SECRET), run.stdout + run.stderr);
      }
      assert.equal(runs[0]!.code, 5, runs[0]!.stderr);
      assert.match(runs[1]!.stdout + runs[1]!.stderr, /"cannot reach Redis at redis:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/0: /);
    });
  }

  it('the shell prints the bus without its password (banner and `bus` alike)', async () => {
    const url = `redis://u:${PASSWORDS[0]}@127.0.0.1:${redis.port}/0`;
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'shell', '--redis-url', url], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', LIGHTBUS_HISTORY: '' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdin.end('bus\nawait bus.schemas()\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 0, output);
    assert.match(output, /Bus \{ service: .*redis:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/0 \}/, output);
    assert.ok(!output.includes(SECRET), output);
  });

  it('util.inspect of a started bus shows no password', async () => {
    const bus = createBus({ config: { redis: { url: `redis://u:${PASSWORDS[0]}@127.0.0.1:${redis.port}/0` }, logLevel: 'silent' } });
    try {
      await bus.schemas();
      const shown = inspect(bus, { depth: 10 });
      assert.ok(!shown.includes(SECRET), shown.slice(0, 2000));
      assert.match(shown, /redis:\/\/u:\*\*\*@/);
    } finally {
      await bus.close();
    }
  });
});
