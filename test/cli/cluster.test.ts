/**
 * The real CLI (`node bin/run.js`, child processes) against a Redis Cluster of 3 masters
 * started for this file, with Python's key names: call, fire, a piped shell, inspect (which
 * must scan every master) and dead-letter listing, replay and delete. Three APIs whose
 * streams sit on three different masters are served by a bus in this process, and three
 * unserved APIs have calls waiting in queues on three different masters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBus, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';
import { replayStreamKey } from '../../src/transport/replay-stream.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';
import { ensureBuilt, jsonLines, runCli, spawnCli, tempConfig } from '../inspect/cli-runner.js';
import { exitOf } from '../shell/support.js';

const cluster = await startRedisCluster();
const redis = { cluster: { nodes: cluster.urls } };
const raw = cluster.client();

const makeApi = (name: string) =>
  defineApi(name, {
    rpcs: { check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()) },
    events: { user_registered: event({ username: Type.String() }) },
  });

describe('the CLI on a 3-master cluster', () => {
  let served: string[];
  let unserved: string[];
  let deadLetters: string;
  let config: { path: string; remove(): void };
  let bus: Bus;
  const service = 'clisvc';
  const heard: Array<{ api: string; username: string }> = [];
  const cli = (...args: string[]) => runCli([...args, '--config', config.path]);

  before(async () => {
    ensureBuilt();
    served = await cluster.namesOnDifferentMasters(3, (api) => `${api}.*:stream`, 'served');
    unserved = await cluster.namesOnDifferentMasters(3, (api) => `${api}:rpc_queue`, 'unserved');
    deadLetters = `${(await cluster.namesOnDifferentMasters(1, (name) => `${name}:dead_letter:stream`, 'dlq'))[0]}:dead_letter:stream`;
    config = tempConfig({ serviceName: 'cli', redis, events: { deadLetterStream: deadLetters } });
    bus = createBus({ config: { serviceName: service, logLevel: 'silent', redis, events: { deadLetterStream: deadLetters } } });
    for (const [i, name] of served.entries()) {
      const api = makeApi(name);
      await bus.serve(api, { check_password: ({ username, password }) => username === 'admin' && password === 'secret' });
      const listener = bus.listen(api.events.user_registered, { name: `mailer${i}`, onError: { retry: { maxAttempts: 1, backoffMs: 1 } } }, (e) => {
        heard.push({ api: name, username: e.params.username });
        if (e.params.username === 'boom') throw new Error('mail server down');
      });
      await listener.ready;
    }
    for (const name of unserved) await raw.rpush(`${name}:rpc_queue`, '{"kwargs": {}}', '{"kwargs": {}}');
  });

  after(async () => {
    await bus?.close();
    raw.disconnect();
    config?.remove();
    await cluster.stop();
  });

  it('call: each API answers, whichever master holds its queue', async () => {
    const results = await Promise.all(served.map((api) => cli('call', `${api}.check_password`, 'username=admin', 'password=secret')));
    for (const result of results) assert.deepEqual([result.code, result.stdout], [0, 'true\n'], result.stderr);
    const wrong = await cli('call', `${served[0]}.check_password`, 'username=admin', 'password=nope', '--json');
    assert.deepEqual([wrong.code, wrong.stdout], [0, 'false\n'], wrong.stderr);
  });

  it('fire: each event lands on its stream and its listener hears it', async () => {
    const results = await Promise.all(served.map((api) => cli('fire', `${api}.user_registered`, 'username=ada', '--json')));
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(String(jsonLines(result.stdout)[0]?.['streamId']), /^\d+-\d+$/);
    }
    await waitFor(() => served.every((api) => heard.some((h) => h.api === api && h.username === 'ada')), 'every listener to hear its event', 15_000);
  });

  it('shell: a piped script calls and fires on the cluster, then exits 0', async () => {
    const child = spawnCli(['shell', '--config', config.path, '--service-name', 'clishell', '--log-level', 'error']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(
      [
        ...served.map((api) => `await bus.call('${api}.check_password', { username: 'admin', password: 'secret' })`),
        `api('${served[2]}').user_registered({ username: 'shelly' })`,
        `'the end'`,
      ].join('\n'),
    );
    const code = await exitOf(child, 'the piped shell to exit');
    assert.equal(code, 0, `stderr: ${stderr}`);
    const lines = stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['true', 'true', 'true']);
    assert.equal(lines.at(-1), "'the end'");
    await waitFor(() => heard.some((h) => h.api === served[2] && h.username === 'shelly'), 'the listener to hear the shell event', 15_000);
  });

  it('inspect: APIs, queues, groups and events of every master', async () => {
    const [apis, queues, groups, events] = await Promise.all([
      cli('inspect', 'apis', 'served_*', '--json'),
      cli('inspect', 'queues', 'unserved_*', '--json'),
      cli('inspect', 'groups', 'served_*', '--json'),
      cli('inspect', 'events', 'served_*', '--json'),
    ]);
    for (const result of [apis, queues, groups, events]) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(jsonLines(apis.stdout).map((a) => a['api']).sort(), [...served].sort());
    assert.deepEqual(jsonLines(queues.stdout).map((q) => [q['api'], q['depth']]).sort(), unserved.map((api) => [api, 2]).sort());
    assert.deepEqual(
      jsonLines(groups.stdout).map((g) => [g['stream'], g['group']]).sort(),
      served.map((api, i) => [`${api}.*:stream`, `${service}-mailer${i}`]).sort(),
    );
    const streamsWithEvents = new Set(jsonLines(events.stdout).map((e) => e['api']));
    assert.deepEqual([...streamsWithEvents].sort(), [...served].sort());
    const overview = await cli('inspect', '--json');
    assert.equal(overview.code, 0, overview.stderr);
    for (const api of [...served, ...unserved]) assert.ok(overview.stdout.includes(api), `the overview names ${api}`);
  });

  it('inspect events --follow: new events on every master are printed as they arrive, until Ctrl-C', async () => {
    await bus.fire(`${served[0]}.user_registered`, { username: 'early' });
    const child = spawnCli(['inspect', 'events', 'served_*', '--follow', '--limit', '1', '--json', '--config', config.path]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    try {
      await waitFor(() => jsonLines(stdout).length === 1 || child.exitCode !== null, 'the newest event before following', 30_000);
      assert.equal(child.exitCode, null, `following ended: ${stderr}`);
      const late = await Promise.all(served.map((api) => bus.fire(`${api}.user_registered`, { username: 'late' })));
      await waitFor(() => late.every((fired) => stdout.includes(fired.id)) || child.exitCode !== null, 'the events fired while following', 30_000);
      assert.equal(child.exitCode, null, `following ended: ${stderr}`);
      child.kill('SIGINT');
      assert.equal(await exitOf(child, 'the follower to stop'), 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('dead letters: listed, replayed to the group on its master, and deleted', async () => {
    const api = served[1]!;
    const stream = `${api}.*:stream`;
    const group = `${service}-mailer1`;
    const fired = await cli('fire', `${api}.user_registered`, 'username=boom', '--json');
    assert.equal(fired.code, 0, fired.stderr);
    await waitFor(async () => (await raw.xlen(deadLetters)) >= 1, 'the failing event to be dead-lettered', 15_000);
    const listed = await cli('inspect', 'dead-letters', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const [letter] = jsonLines(listed.stdout);
    assert.deepEqual([letter!['api'], letter!['event'], letter!['stream'], letter!['group']], [api, 'user_registered', stream, group]);
    assert.match(letter!['reason'], /mail server down/);

    const replay = await cli('inspect', 'dead-letters', 'replay', letter!['id'], '--json');
    assert.equal(replay.code, 0, replay.stderr);
    const [replayed] = jsonLines(replay.stdout);
    assert.deepEqual([replayed!['group'], replayed!['stream']], [group, replayStreamKey(group)]);
    // The listener reads its replay stream (wherever its slot is), fails again, dead-letters again.
    const again = await waitFor(async () => {
      const entries = (await raw.xrange(deadLetters, '-', '+')) as Array<[string, string[]]>;
      return entries.find(([, fields]) => fields[fields.indexOf('stream_id') + 1] === replayed!['streamId']);
    }, 'the replayed event to be dead-lettered again', 30_000);
    assert.equal(heard.filter((h) => h.username === 'boom').length, 2);
    const removed = await cli('inspect', 'dead-letters', 'delete', again[0]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await raw.xlen(deadLetters), 0);
  });
});
