/**
 * The commands run in this process with oclif's `runCommand` (the built commands, as
 * `bin/run.js` loads them), against the real Redis: fast checks of help, typed results, JSON
 * lines and exit codes, beside the child-process tests that go through the real binary.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '@oclif/test';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';
import { ensureBuilt, jsonLines, ROOT, tempConfig } from '../inspect/cli-runner.js';
import { uniqueName } from '../helpers/wait.js';

const REDIS_URL = 'redis://127.0.0.1:6379/0';

/**
 * runCommand captures stdout by replacing process.stdout.write, and a test file run by
 * `node --test` reports to its parent through that same stdout, a moment after each test
 * event. Waiting for those reports to go out first keeps them out of the capture (where they
 * would be lost); the exact stdout assertions below would fail if one slipped in.
 */
async function inProcess<T>(args: string[]): ReturnType<typeof runCommand<T>> {
  await new Promise((resolve) => setTimeout(resolve, 25));
  return runCommand<T>(args, { root: ROOT });
}

const COMMANDS = [
  'call',
  'codegen',
  'dumpconfigschema',
  'dumpschema',
  'fire',
  'inspect',
  'inspect apis',
  'inspect dead-letters',
  'inspect dead-letters delete',
  'inspect dead-letters replay',
  'inspect events',
  'inspect groups',
  'inspect processes',
  'inspect queues',
  'run',
  'shell',
  'version',
];

describe('commands in-process (runCommand)', () => {
  const prefix = uniqueName('t');
  const apiName = `${prefix}_inproc`;
  const api = defineApi(apiName, {
    rpcs: {
      echo: rpc({ n: Type.Number() }, Type.Object({ n: Type.Number() })),
      nothing: rpc({}, Type.Null()),
    },
    events: { happened: event({ what: Type.String() }) },
  });
  const redis = new Redis(REDIS_URL);
  // Calls to the one unserved API wait for a server, so a timeout can be seen; refusals are test/cli/call-fire.test.ts's.
  const config = tempConfig({ serviceName: `${prefix}_cli`, redis: { url: REDIS_URL }, apis: { [`${prefix}_nobody`]: { whenNoServer: 'wait' } } });
  const lightbus = <T>(...args: string[]) => inProcess<T>([...args, '--config', config.path]);
  let bus: Bus;

  before(async () => {
    ensureBuilt();
    bus = createBus({ config: { serviceName: `${prefix}_svc`, logLevel: 'silent', redis: { url: REDIS_URL } } });
    await bus.serve(api, { echo: (params) => params, nothing: () => null });
  });

  after(async () => {
    await bus.close();
    await redis.del(`${apiName}.*:stream`, `${apiName}:rpc_queue`, `schema:${apiName}`);
    await redis.srem('schemas', apiName);
    redis.disconnect();
    config.remove();
  });

  it('every command has its --help, with usage and exit codes', async () => {
    for (const id of COMMANDS) {
      const { stdout, error } = await inProcess([...id.split(' '), '--help']);
      assert.equal(error, undefined, id);
      assert.match(stdout, /USAGE/, id);
      assert.match(stdout, /Exit codes/i, id);
    }
  });

  it('call returns the typed result, and with --json prints the result alone on one line', async () => {
    const { result, stdout, error } = await lightbus<{ api: string; procedure: string; result: unknown }>('call', `${apiName}.echo`, 'n=7', '--json');
    assert.equal(error, undefined);
    assert.deepEqual(result, { api: apiName, procedure: 'echo', result: { n: 7 } });
    assert.equal(stdout, '{"n":7}\n');
  });

  it('call --json of an RPC answering null prints null: the result is wrapped, as oclif prints nothing for a falsy one', async () => {
    const { stdout, error } = await lightbus('call', `${apiName}.nothing`, '--json');
    assert.equal(error, undefined);
    assert.equal(stdout, 'null\n');
  });

  it('fire returns where the event went; inspect events finds it, one JSON line per event', async () => {
    const fired = await lightbus<{ id: string; streamId: string; stream: string }>('fire', `${apiName}.happened`, 'what=ok', '--json');
    assert.equal(fired.error, undefined);
    assert.equal(fired.result?.stream, `${apiName}.*:stream`);
    assert.deepEqual(jsonLines(fired.stdout), [{ api: apiName, event: 'happened', ...fired.result }]);
    const events = await lightbus<Array<{ id: string }>>('inspect', 'events', `${apiName}.*`, '--json');
    assert.equal(events.error, undefined);
    assert.deepEqual(events.result?.map((row) => row.id), [fired.result?.id]);
    assert.deepEqual(jsonLines(events.stdout).map((row) => row['id']), [fired.result?.id]);
  });

  it('inspect --json tags each line with its kind and ends with the dead-letter count', async () => {
    const { stdout, error } = await lightbus('inspect', `${apiName}*`, '--json');
    assert.equal(error, undefined);
    const lines = jsonLines(stdout);
    assert.ok(lines.some((line) => line['kind'] === 'api' && line['api'] === apiName), stdout);
    assert.equal(lines.at(-1)?.['kind'], 'dead-letters');
  });

  it('errors exit with the code of the table: usage 2, timeout 3, not found 4; with --json as JSON on stderr', async () => {
    const usage = await lightbus('call', '--json');
    assert.equal(usage.error?.oclif?.exit, 2);
    assert.equal(usage.stdout, '');
    const unknown = await lightbus('call', `${apiName}.no_such_rpc`, '--json');
    assert.equal(unknown.error?.oclif?.exit, 4);
    assert.equal(unknown.stdout, '');
    assert.equal((JSON.parse(unknown.stderr) as { error: { exitCode: number } }).error.exitCode, 4);
    const timeout = await lightbus('call', `${prefix}_nobody.anything`, '--timeout', '300');
    assert.equal(timeout.error?.oclif?.exit, 3);
    assert.match(timeout.stderr, /^Error: /);
  });
});
