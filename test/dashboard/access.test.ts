/**
 * Who may use the dashboard (src/dashboard/access.ts), and the app's rule off loopback: every
 * request, reads included, needs the token. The app is exercised in-process (Hono's
 * `app.request`), so no test binds anything but loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { bearerToken, hostHeaderAllowed, isLoopbackHost, resolveToken, tokenMatches } from '../../src/dashboard/access.js';
import { Actions } from '../../src/dashboard/actions.js';
import { createApp } from '../../src/dashboard/app.js';
import { loadAssets } from '../../src/dashboard/assets.js';
import { LiveHub } from '../../src/dashboard/live.js';
import { RateHistory } from '../../src/dashboard/rates.js';
import { Inspector } from '../../src/inspect/inspector.js';
import { silentLogger } from '../../src/logging/logger.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

describe('dashboard access rules', () => {
  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'example.com', 'localhost.example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(host), host);
  });

  it('makes a token for loopback, and wants one given for any other host', () => {
    assert.ok(resolveToken({ host: '127.0.0.1', token: undefined }).length >= 16);
    assert.notEqual(resolveToken({ host: '127.0.0.1', token: undefined }), resolveToken({ host: '127.0.0.1', token: undefined }));
    assert.throws(() => resolveToken({ host: '0.0.0.0', token: undefined }), /--auth-token.*dashboard\.authToken/);
    assert.equal(resolveToken({ host: '0.0.0.0', token: 'a-long-enough-token' }), 'a-long-enough-token');
    assert.throws(() => resolveToken({ host: '127.0.0.1', token: 'short' }), /at least 16 characters/);
  });

  it('compares tokens whatever their lengths, and reads only a Bearer header', () => {
    assert.ok(tokenMatches('a-long-enough-token', 'a-long-enough-token'));
    assert.ok(!tokenMatches('a-long-enough-tokeN', 'a-long-enough-token'));
    assert.ok(!tokenMatches('a', 'a-long-enough-token'));
    assert.ok(!tokenMatches(undefined, 'a-long-enough-token'));
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });

  it('on loopback, answers only a loopback Host header', () => {
    assert.ok(hostHeaderAllowed('127.0.0.1:4400', true));
    assert.ok(hostHeaderAllowed('localhost:4400', true));
    assert.ok(hostHeaderAllowed('[::1]:4400', true));
    assert.ok(!hostHeaderAllowed('attacker.example:4400', true));
    assert.ok(!hostHeaderAllowed(undefined, true));
    assert.ok(hostHeaderAllowed('dashboard.internal:4400', false));
  });
});

describe('dashboard rates', () => {
  it('turns counter samples into per-second rates within the window, a counter going down being a new start', () => {
    const rates = new RateHistory(60_000, 10);
    rates.sample('s', 100, 0);
    assert.deepEqual(rates.points('s'), []);
    rates.sample('s', 120, 2000);
    rates.sample('s', 120, 4000);
    rates.sample('s', 5, 6000);
    assert.deepEqual(rates.points('s'), [
      { t: 2000, perSecond: 10 },
      { t: 4000, perSecond: 0 },
      { t: 6000, perSecond: 0 },
    ]);
    rates.sample('s', 65, 66_000);
    assert.deepEqual(rates.points('s'), [{ t: 6000, perSecond: 0 }, { t: 66_000, perSecond: 1 }], 'points older than the window are dropped');
    rates.prune(200_000);
    assert.deepEqual(rates.points('s'), []);
  });
});

describe('dashboard off loopback', () => {
  let redisServer: RedisServer;
  let inspector: Inspector;
  let app: ReturnType<typeof createApp>;
  let hub: LiveHub;
  const token = 'an-off-loopback-token';

  before(async () => {
    redisServer = await startRedisServer();
    const config = await loadConfig({ flags: { redisUrl: redisServer.url } });
    const logger = silentLogger();
    inspector = await Inspector.open(config, logger);
    hub = new LiveHub(inspector, logger, 1000);
    app = createApp({ inspector, hub, actions: new Actions(inspector, logger), assets: loadAssets(), token, loopback: false, logger });
  });
  after(async () => {
    hub?.close();
    await inspector?.close();
    await redisServer?.stop();
  });

  it('needs the token for reads too, and accepts any Host', async () => {
    const headers = { Host: 'dashboard.internal:4400' };
    assert.equal((await app.request('/api/overview', { headers })).status, 401);
    assert.equal((await app.request('/api/live', { headers })).status, 401);
    assert.equal((await app.request('/api/overview', { headers: { ...headers, Authorization: `Bearer ${token}` } })).status, 200);
    const access = await app.request('/api/access', { headers });
    assert.deepEqual(await access.json(), { readsNeedToken: true });
    // The page itself holds no bus data: it loads, then asks for the token.
    assert.equal((await app.request('/', { headers })).status, 200);
  });
});
