/** `redis.cluster` and `redis.sentinel`: a half-configured block is refused with its key and the fix; a whole one reaches the resolved config. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { tempProject, type TempProject } from './helpers.js';

const projects: TempProject[] = [];
after(() => projects.forEach((p) => p.remove()));

async function load(config: unknown) {
  const p = tempProject({ 'lightbus.config.json': JSON.stringify(config) });
  projects.push(p);
  return loadConfig({ cwd: p.dir, env: {} });
}

async function errorOf(config: unknown): Promise<ConfigError> {
  try {
    await load(config);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('the config was accepted');
}

describe('redis.cluster and redis.sentinel', () => {
  test('a cluster block without nodes names the key and shows a whole block', async () => {
    for (const cluster of [{}, { nodes: [] }]) {
      const error = await errorOf({ redis: { cluster } });
      assert.equal(error.keyPath, 'redis.cluster.nodes');
      assert.match(error.message, /^lightbus\.config\.json: redis\.cluster\.nodes is missing: list at least one node .*nodes: \['redis:\/\/10\.0\.0\.1:7000'/);
      assert.doesNotMatch(error.message, /required property|fewer than/);
    }
  });

  test('a sentinel block without a name or without sentinels says which is missing', async () => {
    const noName = await errorOf({ redis: { sentinel: { sentinels: ['redis://127.0.0.1:26379'] } } });
    assert.equal(noName.keyPath, 'redis.sentinel.name');
    assert.match(noName.message, /redis\.sentinel\.name is missing: give the master group name your sentinels monitor/);
    const noSentinels = await errorOf({ redis: { sentinel: { name: 'mymaster' } } });
    assert.equal(noSentinels.keyPath, 'redis.sentinel.sentinels');
    assert.match(noSentinels.message, /redis\.sentinel\.sentinels is missing/);
  });

  test('cluster with sentinel, or with redis.url, is refused', async () => {
    const both = await errorOf({ redis: { cluster: { nodes: ['redis://127.0.0.1:7000'] }, sentinel: { sentinels: ['redis://127.0.0.1:26379'], name: 'm' } } });
    assert.match(both.message, /redis\.sentinel cannot be set together with redis\.cluster/);
    const withUrl = await errorOf({ redis: { url: 'redis://127.0.0.1:6379/0', cluster: { nodes: ['redis://127.0.0.1:7000'] } } });
    assert.match(withUrl.message, /redis\.url cannot be set together with redis\.cluster: .*Remove redis\.url/);
  });

  test('node URLs must agree on scheme and credentials, name a port, and no database but 0', async () => {
    const mixed = await errorOf({ redis: { cluster: { nodes: ['redis://a:secret@127.0.0.1:7000', 'rediss://127.0.0.1:7001'] } } });
    assert.match(mixed.message, /redis\.cluster\.nodes must all use the same scheme \(redis:\/\/ or rediss:\/\/\), user and password/);
    assert.doesNotMatch(mixed.message, /secret/);
    const db = await errorOf({ redis: { cluster: { nodes: ['redis://127.0.0.1:7000/3'] } } });
    assert.match(db.message, /redis\.cluster\.nodes\[0\] names database 3, but a Redis Cluster has only database 0/);
    const noPort = await errorOf({ redis: { cluster: { nodes: ['redis://127.0.0.1'] } } });
    assert.match(noPort.message, /redis\.cluster\.nodes\[0\] must name a host and a port/);
  });

  test('a whole block reaches the resolved config', async () => {
    const config = await load({ redis: { cluster: { nodes: ['redis://127.0.0.1:7000'], natMap: { '10.0.0.1:7000': { host: '127.0.0.1', port: 7000 } } } } });
    assert.deepEqual(config.redis.cluster, { nodes: ['redis://127.0.0.1:7000'], natMap: { '10.0.0.1:7000': { host: '127.0.0.1', port: 7000 } } });
    const sentinel = await load({ redis: { url: 'redis://:pw@127.0.0.1:6379/2', sentinel: { sentinels: ['redis://127.0.0.1:26379'], name: 'mymaster' } } });
    assert.deepEqual(sentinel.redis.sentinel, { sentinels: ['redis://127.0.0.1:26379'], name: 'mymaster' });
  });
});
