import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeApis, memberSchema } from '../../src/inspect/apis.js';
import { listGroups } from '../../src/inspect/groups.js';
import { parseMemberPattern } from '../../src/inspect/patterns.js';
import { describeProcess, listProcesses } from '../../src/inspect/processes.js';
import { listQueues } from '../../src/inspect/queues.js';
import { findEventStreams } from '../../src/inspect/streams.js';
import { UnknownMemberError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging/logger.js';
import { RedisPresenceTransport } from '../../src/transport/redis/presence-transport.js';
import { uniqueName } from '../helpers/wait.js';
import { REDIS_URL, Seed } from './seed.js';

describe('inspect: processes, APIs, queues and groups', () => {
  const seed = new Seed();
  const prefix = uniqueName('t');
  const service = `${prefix}_svc`;
  const api = `${prefix}_auth`;
  const presence = new RedisPresenceTransport({ redis: { url: REDIS_URL }, logger: silentLogger() });

  before(async () => {
    await seed.heartbeat({ service, process: 'live-1', apis: [api], listeners: ['mailer'] });
    await seed.heartbeat({ service, process: 'gone-1', apis: [api, `${prefix}_legacy`], lastSeenAgoMs: 60_000 });
    await seed.schema(api, { rpcs: { check_password: { parameters: {}, response: {} } }, events: { user_registered: { parameters: {} } } });
  });
  after(async () => {
    await presence.close();
    await seed.cleanup();
  });

  it('marks a process silent after three missed heartbeats', () => {
    const now = Date.parse('2025-05-01T10:00:00Z');
    const info = { service: 's', process: 'p', host: 'h', pid: 1, version: '1', apis: [], listeners: [], workers: 1, intervalMs: 5000, startedAt: '2025-05-01T09:00:00Z' };
    assert.equal(describeProcess({ ...info, lastSeen: '2025-05-01T09:59:46Z' }, now).status, 'live');
    const silent = describeProcess({ ...info, lastSeen: '2025-05-01T09:59:40Z' }, now);
    assert.equal(silent.status, 'silent');
    assert.equal(silent.lastSeenAgoMs, 20_000);
    assert.equal(silent.uptimeMs, 59 * 60_000 + 40_000, 'a silent process is up until its last heartbeat');
  });

  it('lists processes from their heartbeats, filtered by service glob and status', async () => {
    const rows = await listProcesses(presence, { service: `${prefix}_*` });
    assert.deepEqual(rows.map((r) => [r.process, r.status]), [['gone-1', 'silent'], ['live-1', 'live']]);
    assert.deepEqual((await listProcesses(presence, { service, status: 'live' })).map((r) => r.process), ['live-1']);
    assert.deepEqual(rows[1]!.listeners, ['mailer']);
  });

  it('joins schemas and heartbeats into APIs, an API without schema included', async () => {
    const processes = await listProcesses(presence, { service });
    const rows = describeApis({ [api]: { rpcs: { check_password: {} }, events: { user_registered: {} } }, other: {} }, processes, [parseMemberPattern(`${prefix}*`)]);
    assert.deepEqual(rows, [
      {
        api,
        rpcs: ['check_password'],
        events: ['user_registered'],
        schema: true,
        servedBy: [
          { service, process: 'gone-1', status: 'silent' },
          { service, process: 'live-1', status: 'live' },
        ],
      },
      { api: `${prefix}_legacy`, rpcs: [], events: [], schema: false, servedBy: [{ service, process: 'gone-1', status: 'silent' }] },
    ]);
  });

  it('finds a member schema, and says which members exist when it is missing', () => {
    const schemas = { auth: { rpcs: { check: { parameters: { type: 'object' }, response: {} } }, events: {} } };
    assert.deepEqual(memberSchema(schemas, 'auth', 'rpcs', 'check'), { parameters: { type: 'object' }, response: {} });
    assert.equal(memberSchema(schemas, 'unknown_api', 'rpcs', 'x'), undefined);
    assert.throws(() => memberSchema(schemas, 'auth', 'rpcs', 'nope'), (e: unknown) => e instanceof UnknownMemberError && /its RPCs: check/.test(e.message));
  });

  it('reports RPC queue depths, with empty queues of known APIs', async () => {
    const busy = `${prefix}_busy`;
    seed.own(`${busy}:rpc_queue`);
    await seed.redis.rpush(`${busy}:rpc_queue`, '{}', '{}', '{}');
    const processes = await listProcesses(presence, { service });
    const rows = await listQueues(seed.redis, processes, [api], [parseMemberPattern(`${prefix}*`)]);
    assert.deepEqual(rows.map((r) => [r.api, r.key, r.depth, r.servedBy.length]), [
      [busy, `${busy}:rpc_queue`, 3, 0],
      [api, `${api}:rpc_queue`, 0, 2],
    ]);
  });

  it('shows consumer groups with pending, lag and consumers', async () => {
    const stream = `${api}.*:stream`;
    for (let i = 0; i < 5; i++) await seed.event(stream, api, 'user_registered', { i });
    await seed.redis.xgroup('CREATE', stream, `${service}-mailer`, '0');
    await seed.redis.xgroup('CREATE', stream, `${service}-audit`, '$');
    await seed.redis.xreadgroup('GROUP', `${service}-mailer`, 'worker-a', 'COUNT', 2, 'STREAMS', stream, '>');
    await seed.redis.xreadgroup('GROUP', `${service}-mailer`, 'worker-b', 'COUNT', 1, 'STREAMS', stream, '>');
    const streams = await findEventStreams(seed.redis, [parseMemberPattern(api)], 'none');
    const rows = await listGroups(seed.redis, streams);
    assert.deepEqual(rows.map((r) => [r.group, r.pending, r.lag]), [
      [`${service}-audit`, 0, 0],
      [`${service}-mailer`, 3, 2],
    ]);
    assert.deepEqual(rows[1]!.consumers.map((c) => [c.name, c.pending]), [['worker-a', 2], ['worker-b', 1]]);
    assert.ok(rows[1]!.consumers.every((c) => c.idleMs >= 0));
    assert.deepEqual((await listGroups(seed.redis, streams, '*-mail*')).map((r) => r.group), [`${service}-mailer`]);
  });
});
