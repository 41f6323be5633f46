import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';
import { replayStreamKey } from '../../src/transport/replay-stream.js';
import { ensureBuilt, jsonLines, runCli, spawnCli, tempConfig } from '../inspect/cli-runner.js';
import { uniqueName, waitFor } from '../helpers/wait.js';

const REDIS_URL = 'redis://127.0.0.1:6379/0';

/** The data lines of a table: the header's columns and, per row, the cells split on 2+ spaces. */
function table(stdout: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = stdout.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));
  return { header: header ?? [], rows };
}

describe('lightbus inspect (the real CLI against a live bus)', () => {
  const prefix = uniqueName('t');
  const service = `${prefix}_svc`;
  const processName = `${prefix}-proc`;
  const apiName = `${prefix}_auth`;
  const unserved = `${prefix}_unserved`;
  const stream = `${apiName}.*:stream`;
  const deadLetters = `${prefix}:dead_letter:stream`;
  const group = `${service}-mailer`;
  const api = defineApi(apiName, {
    rpcs: { check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()) },
    events: { user_registered: event({ username: Type.String(), age: Type.Number() }) },
  });
  const redis = new Redis(REDIS_URL);
  const config = tempConfig({ serviceName: `${prefix}_cli`, redis: { url: REDIS_URL }, events: { deadLetterStream: deadLetters } });
  const cli = (...args: string[]) => runCli([...args, '--config', config.path]);
  const handled: string[] = [];
  let bus: Bus;
  const fired: Record<string, { id: string; streamId: string }> = {};

  before(async () => {
    ensureBuilt();
    bus = createBus({
      config: { serviceName: service, processName, logLevel: 'silent', redis: { url: REDIS_URL }, events: { deadLetterStream: deadLetters } },
    });
    await bus.serve(api, { check_password: () => true });
    const listener = bus.listen(api.events.user_registered, { name: 'mailer', onError: { retry: { maxAttempts: 1, backoffMs: 1 } } }, (e) => {
      handled.push(e.params.username);
      if (e.params.username === 'boom') throw new Error('mail server down');
    });
    await listener.ready;
    for (const [username, age] of [['ada', 36], ['boom', 1], ['bob', 41]] as const) fired[username] = await bus.fire(api.events.user_registered, { username, age });
    await waitFor(async () => handled.length >= 3 && (await redis.xlen(deadLetters)) >= 1, 'the listener to handle every event and dead-letter one', 15_000);
    await waitFor(async () => Number(((await redis.xpending(stream, group)) as [number])[0]) === 0, 'every handled event to be acknowledged', 15_000);
    // The heartbeat names what the process serves from its next beat on (every 5 s).
    await waitFor(async () => (await redis.hget('lightbus:processes', `${service}:${processName}`))?.includes('"mailer"'), 'a heartbeat naming the API and the listener', 15_000);
    await redis.hset('lightbus:processes', `${service}:ghost`, JSON.stringify({
      service, process: 'ghost', host: 'h', pid: 1, version: '0.1.0', apis: [apiName], listeners: [], workers: 1,
      startedAt: new Date(Date.now() - 120_000).toISOString(), lastSeen: new Date(Date.now() - 60_000).toISOString(), intervalMs: 5000,
    }));
    await redis.rpush(`${unserved}:rpc_queue`, '{"kwargs": {}}', '{"kwargs": {}}');
  });

  after(async () => {
    await bus.close();
    await redis.hdel('lightbus:processes', `${service}:ghost`);
    await redis.del(stream, deadLetters, replayStreamKey(group), `${unserved}:rpc_queue`, `${apiName}:rpc_queue`, `schema:${apiName}`);
    await redis.srem('schemas', apiName);
    redis.disconnect();
    config.remove();
  });

  it('processes: the live bus process and a silent one, as a table and as JSON', async () => {
    const [plain, json] = await Promise.all([cli('inspect', 'processes', '--service', service), cli('inspect', 'processes', '--service', service, '--json')]);
    assert.equal(plain.code, 0, plain.stderr);
    const { header, rows } = table(plain.stdout);
    assert.deepEqual(header.slice(0, 3), ['SERVICE', 'PROCESS', 'STATUS']);
    assert.deepEqual(rows.map((r) => r.slice(0, 3)), [[service, 'ghost', 'silent'], [service, processName, 'live']]);
    assert.equal(json.code, 0, json.stderr);
    const live = jsonLines(json.stdout).find((p) => p['process'] === processName)!;
    assert.deepEqual([live['status'], live['apis'], live['listeners'], live['pid']], ['live', [apiName], ['mailer'], process.pid]);
  });

  it('apis: members from the published schema and the processes serving them', async () => {
    const [plain, json] = await Promise.all([cli('inspect', 'apis', `${prefix}*`), cli('inspect', 'apis', `${prefix}*`, '--json')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(table(plain.stdout).rows, [[apiName, 'check_password', 'user_registered', `${service}:ghost (silent), ${service}:${processName}`]]);
    assert.deepEqual(jsonLines(json.stdout), [
      {
        api: apiName,
        rpcs: ['check_password'],
        events: ['user_registered'],
        schema: true,
        servedBy: [{ service, process: 'ghost', status: 'silent' }, { service, process: processName, status: 'live' }],
      },
    ]);
  });

  it('queues: calls waiting per API, deepest first', async () => {
    const [plain, json] = await Promise.all([cli('inspect', 'queues', `${prefix}*`), cli('inspect', 'queues', `${prefix}*`, '--json')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(table(plain.stdout).rows.map((r) => r.slice(0, 4)), [
      [unserved, `${unserved}:rpc_queue`, '2', 'nobody'],
      [apiName, `${apiName}:rpc_queue`, '0', `${service}:ghost (silent), ${service}:${processName}`],
    ]);
    assert.deepEqual(jsonLines(json.stdout).map((q) => [q['api'], q['depth']]), [[unserved, 2], [apiName, 0]]);
  });

  it('groups: the listener group with pending, lag and its consumer', async () => {
    const [plain, json] = await Promise.all([cli('inspect', 'groups', apiName), cli('inspect', 'groups', apiName, '--json')]);
    assert.equal(plain.code, 0, plain.stderr);
    const { header, rows } = table(plain.stdout);
    assert.deepEqual(header, ['STREAM', 'GROUP', 'PENDING', 'LAG', 'LAST DELIVERED', 'CONSUMERS (PENDING, IDLE)']);
    assert.deepEqual(rows[0]!.slice(0, 5), [stream, group, '0', '0', fired['bob']!.streamId]);
    assert.match(rows[0]![5]!, new RegExp(`^${processName} \\(0, \\d+`));
    const [info] = jsonLines(json.stdout);
    assert.deepEqual([info!['group'], info!['pending'], info!['lag'], info!['consumers'].map((c: { name: string }) => c.name)], [group, 0, 0, [processName]]);
  });

  it('events: newest first, filtered by pattern, parameter, id and time, in both formats', async () => {
    const [all, where, byId, byStreamId, recent] = await Promise.all([
      cli('inspect', 'events', `${apiName}.*`),
      cli('inspect', 'events', `*${prefix}*.user_*`, '--where', 'age=36', '--json'),
      cli('inspect', 'events', '--id', fired['bob']!.id, '--json'),
      cli('inspect', 'events', apiName, '--id', fired['boom']!.streamId, '--json'),
      cli('inspect', 'events', apiName, '--since', '1h', '--until', new Date(Date.now() + 60_000).toISOString(), '--limit', '1', '--json'),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const { header, rows } = table(all.stdout);
    assert.deepEqual(header, ['TIME', 'STREAM ID', 'EVENT', 'MESSAGE ID', 'PARAMS']);
    assert.deepEqual(rows.map((r) => [r[1], r[2], r[3], r[4]]), [
      [fired['bob']!.streamId, `${apiName}.user_registered`, fired['bob']!.id, '{"username":"bob","age":41}'],
      [fired['boom']!.streamId, `${apiName}.user_registered`, fired['boom']!.id, '{"username":"boom","age":1}'],
      [fired['ada']!.streamId, `${apiName}.user_registered`, fired['ada']!.id, '{"username":"ada","age":36}'],
    ]);
    assert.deepEqual(jsonLines(where.stdout), [
      {
        stream,
        streamId: fired['ada']!.streamId,
        time: new Date(Number(fired['ada']!.streamId.split('-')[0])).toISOString(),
        id: fired['ada']!.id,
        api: apiName,
        event: 'user_registered',
        version: 1,
        params: { username: 'ada', age: 36 },
      },
    ]);
    assert.deepEqual(jsonLines(byId.stdout).map((e) => e['streamId']), [fired['bob']!.streamId]);
    assert.deepEqual(jsonLines(byStreamId.stdout).map((e) => e['id']), [fired['boom']!.id]);
    assert.deepEqual(jsonLines(recent.stdout).map((e) => e['id']), [fired['bob']!.id]);
    const bad = await cli('inspect', 'events', '--since', 'last tuesday');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: "last tuesday" is not a time/);
  });

  it('events --follow: prints the newest, then new events as they arrive, until Ctrl-C (exit 0)', async () => {
    const child = spawnCli(['inspect', 'events', `${apiName}.*`, '--follow', '--limit', '1', '--json', '--config', config.path]);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes(fired['bob']!.id), 'the newest event before following', 30_000);
      // Following resumes from explicit stream ids, so this is seen even if it lands before the first blocking read.
      const late = await bus.fire(api.events.user_registered, { username: 'late', age: 2 });
      await waitFor(() => stdout.includes(late.id), 'the event fired while following', 30_000);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.deepEqual(jsonLines(stdout).map((e) => e['params'].username), ['bob', 'late']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('dead-letters: listed with group and reason; replay puts the event back, delete drops one', async () => {
    const [plain, json] = await Promise.all([cli('inspect', 'dead-letters'), cli('inspect', 'dead-letters', '--json')]);
    assert.equal(plain.code, 0, plain.stderr);
    const { header, rows } = table(plain.stdout);
    assert.deepEqual(header, ['ID', 'TIME', 'EVENT', 'FROM', 'GROUP', 'REASON', 'PARAMS']);
    assert.deepEqual(rows.map((r) => [r[2], r[3], r[4]]), [[`${apiName}.user_registered`, `${stream} ${fired['boom']!.streamId}`, group]]);
    const [letter] = jsonLines(json.stdout);
    assert.match(letter!['reason'], /mail server down/);
    assert.equal(letter!['messageId'], fired['boom']!.id);

    const replay = await cli('inspect', 'dead-letters', 'replay', letter!['id'], '--json');
    assert.equal(replay.code, 0, replay.stderr);
    const [replayed] = jsonLines(replay.stdout);
    assert.equal(replayed!['group'], group);
    assert.equal(replayed!['stream'], replayStreamKey(group));
    assert.deepEqual(await redis.xrange(deadLetters, letter!['id'], letter!['id']), []);
    // The listener gets the event again (from its replay stream), fails again, and dead-letters it again: a new dead letter.
    const again = await waitFor(async () => {
      const entries = (await redis.xrange(deadLetters, '-', '+')) as Array<[string, string[]]>;
      return entries.find(([, fields]) => fields[fields.indexOf('stream_id') + 1] === replayed!['streamId']);
    }, 'the replayed event to be dead-lettered again', 30_000);
    assert.equal(handled.filter((u) => u === 'boom').length, 2);

    const [removed, missing] = [await cli('inspect', 'dead-letters', 'delete', again[0]), await cli('inspect', 'dead-letters', 'delete', again[0])];
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(table(removed.stdout).rows, [[again[0]]]);
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /no dead letter/);
    assert.equal(await redis.xlen(deadLetters), 0);
  });

  it('the overview: every kind in one go, one object per line with a kind', async () => {
    const [plain, json] = await Promise.all([cli('inspect', `${prefix}*`), cli('inspect', `${prefix}*`, '--json')]);
    assert.equal(plain.code, 0, plain.stderr);
    for (const title of ['PROCESSES', 'APIS', 'RPC QUEUES', 'CONSUMER GROUPS']) assert.match(plain.stdout, new RegExp(`^${title}$`, 'm'));
    assert.match(plain.stdout, new RegExp(`^DEAD LETTERS: \\d+ in ${deadLetters.replace(/[.*]/g, '\\$&')}`, 'm'));
    const lines = jsonLines(json.stdout);
    assert.ok(lines.some((l) => l['kind'] === 'process' && l['process'] === processName));
    assert.deepEqual(lines.filter((l) => l['kind'] === 'api').map((l) => l['api']), [apiName]);
    assert.deepEqual(lines.filter((l) => l['kind'] === 'queue').map((l) => l['api']), [unserved, apiName]);
    assert.deepEqual(lines.filter((l) => l['kind'] === 'group').map((l) => l['group']), [group]);
    assert.deepEqual(lines.filter((l) => l['kind'] === 'dead-letters'), [{ kind: 'dead-letters', stream: deadLetters, count: await redis.xlen(deadLetters) }]);
  });

  it('usage errors exit 2, an unreachable Redis 5', async () => {
    const [badId, badPattern, unreachable] = await Promise.all([
      cli('inspect', 'dead-letters', 'delete', 'not-an-id'),
      cli('inspect', 'events', ''),
      runCli(['inspect', 'processes', '--redis-url', 'redis://127.0.0.1:1/0']),
    ]);
    assert.equal(badId.code, 2, badId.stderr);
    assert.equal(badPattern.code, 2, badPattern.stderr);
    assert.equal(unreachable.code, 5, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot reach Redis/);
  });
});
