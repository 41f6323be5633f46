/**
 * The dashboard's HTTP API against a real `lightbus run examples/bus.ts` and a real
 * `lightbus dashboard`, both CLI children on a private redis-server (./harness.ts).
 */
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../inspect/cli-runner.js';
import { waitFor } from '../helpers/wait.js';
import { DEAD_LETTER_STREAM, EXAMPLE_GROUP, EXAMPLE_STREAM, seedDeadLetter, startExampleBus, type ExampleBus } from './harness.js';

describe('lightbus dashboard: the HTTP API over a running example bus', () => {
  let bus: ExampleBus;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${bus.url}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as any };
  };
  const send = async (method: string, path: string, body?: unknown, withToken = true) => {
    const headers: Record<string, string> = withToken ? { Authorization: `Bearer ${bus.token}` } : {};
    const response = await fetch(`${bus.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: response.status, body: (await response.json()) as any };
  };

  before(async () => {
    bus = await startExampleBus();
  });
  after(async () => {
    await bus?.stop();
  });

  it('shows the process, its API with who serves it, and its consumer group', async () => {
    const { status, body } = await get('api/overview');
    assert.equal(status, 200);
    const serving = body.processes.find((p: any) => p.apis.includes('auth'));
    assert.equal(serving.service, 'example');
    assert.equal(serving.status, 'live');
    assert.deepEqual(serving.listeners, ['send_welcome_email']);
    assert.equal(serving.workers, 1);
    const auth = body.apis.find((a: any) => a.api === 'auth');
    assert.deepEqual(auth.rpcs, ['check_password', 'register_user']);
    assert.deepEqual(auth.servedBy.map((s: any) => s.process), [serving.process]);
    const group = body.groups.find((g: any) => g.group === EXAMPLE_GROUP);
    assert.equal(group.stream, EXAMPLE_STREAM);
    assert.equal(group.pending, 0);
    assert.ok(body.streams.some((s: any) => s.stream === EXAMPLE_STREAM));
    assert.deepEqual(body.deadLetters, { count: 0, newest: [] });
    const schemas = await get('api/schemas');
    assert.deepEqual(schemas.body.auth.rpcs.check_password.parameters.required, ['username', 'password']);
  });

  it('calls an RPC with the token, after checking its parameters against the published schema', async () => {
    const call = (params: unknown, withToken = true) => send('POST', 'api/call', { api: 'auth', procedure: 'check_password', params }, withToken);
    assert.deepEqual(await call({ username: 'admin', password: 'secret' }), { status: 200, body: { ok: true, result: true } });
    assert.deepEqual((await call({ username: 'admin', password: 'wrong' })).body, { ok: true, result: false });
    const refused = await call({ username: 'admin', password: 'secret' }, false);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /Bearer/);
    const wrongToken = await fetch(`${bus.url}api/call`, { method: 'POST', headers: { Authorization: `Bearer ${bus.token}x` }, body: '{}' });
    assert.equal(wrongToken.status, 401);
    const invalid = await call({ username: 7 });
    assert.equal(invalid.status, 422);
    assert.deepEqual(invalid.body.issues.map((i: any) => i.path).sort(), ['/password', '/username']);
    const unknown = await send('POST', 'api/call', { api: 'auth', procedure: 'nope', params: {} });
    assert.equal(unknown.status, 502);
    assert.equal(unknown.body.error.name, 'UnknownMemberError');
  });

  it('refuses a foreign Host header, an oversized body and a body that is not a JSON object', async () => {
    // fetch() will not send another Host; node:http will, as a DNS-rebinding page's browser does.
    const rebinding = await new Promise<number>((resolve, reject) => {
      const request = httpGet(`${bus.url}api/overview`, { headers: { Host: 'attacker.example:80' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
    });
    assert.equal(rebinding, 421);
    const big = await send('POST', 'api/call', { api: 'auth', procedure: 'check_password', params: { username: 'x'.repeat(70_000), password: 'y' } });
    assert.equal(big.status, 413);
    const notJson = await fetch(`${bus.url}api/call`, { method: 'POST', headers: { Authorization: `Bearer ${bus.token}` }, body: '[1,' });
    assert.equal(notJson.status, 400);
  });

  it('lists events with filters, and streams new ones (and the overview) to an open page', async () => {
    const controller = new AbortController();
    const live = await fetch(`${bus.url}api/live`, { signal: controller.signal });
    assert.equal(live.headers.get('content-type'), 'text/event-stream');
    const reader = live.body!.getReader();
    let received = '';
    const readUntil = (pattern: RegExp) =>
      waitFor(
        async () => {
          const { value, done } = await reader.read();
          if (done) throw new Error('the live stream ended');
          received += Buffer.from(value).toString('utf8');
          return pattern.test(received);
        },
        `the live stream to carry ${pattern}`,
        15_000,
        0,
      );
    try {
      await readUntil(/event: overview/);
      await send('POST', 'api/call', { api: 'auth', procedure: 'register_user', params: { username: 'ada_live', email: 'ada@example.com' } });
      await readUntil(/event: event\ndata: .*"ada_live"/);
    } finally {
      controller.abort();
    }
    const found = await get('api/events?api=auth&event=user_registered&since=10m&limit=5');
    assert.equal(found.status, 200);
    const ada = found.body.find((e: any) => e.params?.username === 'ada_live');
    assert.equal(ada.api, 'auth');
    assert.equal(ada.stream, EXAMPLE_STREAM);
    assert.deepEqual((await get('api/events?event=no_such_event')).body, []);
    assert.equal((await get('api/events?since=yesterday-ish')).status, 400);
  });

  it('replays a dead letter to the group that gave up on it, which handles it again', async () => {
    const id = await seedDeadLetter(bus.redis, { username: 'replayed_ada', email: 'ada@example.com' });
    const overview = await get('api/overview');
    assert.equal(overview.body.deadLetters.count, 1);
    assert.equal(overview.body.deadLetters.newest[0].params.username, 'replayed_ada');
    assert.equal((await get(`api/dead-letters/${id}`)).body.group, EXAMPLE_GROUP);
    assert.equal((await send('POST', `api/dead-letters/${id}/replay`, {}, false)).status, 401);
    const replayed = await send('POST', `api/dead-letters/${id}/replay`, {});
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.group, EXAMPLE_GROUP);
    await waitFor(() => bus.bus.output().includes('sending a welcome email to replayed_ada'), 'the example listener to handle the replayed event', 15_000, 50);
    assert.equal(await bus.redis.xlen(DEAD_LETTER_STREAM), 0);
    const again = await send('POST', `api/dead-letters/${id}/replay`, {});
    assert.equal(again.status, 404);
  });

  it('deletes a dead letter, and replays all only when asked to confirm', async () => {
    const doomed = await seedDeadLetter(bus.redis, { username: 'deleted_bob', email: 'bob@example.com' });
    assert.equal((await send('DELETE', `api/dead-letters/${doomed}`, undefined, false)).status, 401);
    assert.deepEqual((await send('DELETE', `api/dead-letters/${doomed}`)).body, { deleted: doomed });
    assert.equal((await send('DELETE', `api/dead-letters/${doomed}`)).status, 404);
    assert.equal((await send('DELETE', 'api/dead-letters/not-an-id')).status, 400);
    for (const username of ['all_1', 'all_2']) await seedDeadLetter(bus.redis, { username, email: `${username}@example.com` });
    const unconfirmed = await send('POST', 'api/dead-letters/replay-all', {});
    assert.equal(unconfirmed.status, 400);
    assert.equal(await bus.redis.xlen(DEAD_LETTER_STREAM), 2);
    const all = await send('POST', 'api/dead-letters/replay-all', { confirm: 'replay-all' });
    assert.equal(all.status, 200);
    assert.equal(all.body.replayed.length, 2);
    assert.deepEqual(all.body.failed, []);
    assert.equal(all.body.left, 0);
    await waitFor(() => bus.bus.output().includes('sending a welcome email to all_2'), 'the replayed events to be handled', 15_000, 50);
  });

  it('serves the page and its files, with a policy that allows no inline script', async () => {
    const page = await fetch(bus.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/assets\/app\.js">/);
    const script = await fetch(`${bus.url}assets/app.js`);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${bus.url}assets/..%2f..%2fpackage.json`)).status, 404);
  });
});

describe('lightbus dashboard: binding', () => {
  it('refuses a host that is not loopback without a token, naming the fix, before it binds anything', async () => {
    const result = await runCli(['dashboard', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--auth-token/);
    assert.match(result.stderr, /LIGHTBUS_DASHBOARD_TOKEN/);
  });

  it('refuses a short token', async () => {
    const result = await runCli(['dashboard', '--auth-token', 'short', '--port', '0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /at least 16 characters/);
  });
});
