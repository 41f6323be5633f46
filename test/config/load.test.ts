import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { HASH_TAGGED_KEYS, keyLayoutOf, PYTHON_KEYS } from '../../src/transport/wire/key-layout.js';
import { apiConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { SCHEMA_MODULE, tempProjects } from './helpers.js';

const project = tempProjects();

describe('config file discovery', () => {
  test('lightbus.config.ts importing a local .ts helper, in a CommonJS package', async () => {
    const p = project({
      'package.json': JSON.stringify({ name: 'ts-cjs' }),
      'timeouts.ts': 'export const rpcTimeoutMs: number = 1234;\n',
      'lightbus.config.ts': [
        `import { defineConfig } from ${JSON.stringify(SCHEMA_MODULE)};`,
        `import { rpcTimeoutMs } from './timeouts';`,
        `export default defineConfig({ serviceName: 'from_ts', apis: { default: { rpcTimeoutMs } } });`,
      ].join('\n'),
    });
    const config = await loadConfig({ cwd: p.dir, env: {} });
    assert.equal(config.serviceName, 'from_ts');
    assert.equal(config.apis['default']?.rpcTimeoutMs, 1234);
    assert.equal(config.source, join(p.dir, 'lightbus.config.ts'));
  });

  test('lightbus.config.ts exporting a plain object, in an ESM package', async () => {
    const p = project({
      'package.json': JSON.stringify({ name: 'ts-esm', type: 'module' }),
      'helper.ts': 'export const batchSize = 7;\n',
      'lightbus.config.ts': `import { batchSize } from './helper.js';\nexport default { events: { batchSize } };\n`,
    });
    const config = await loadConfig({ cwd: p.dir, env: {} });
    assert.equal(config.events.batchSize, 7);
  });

  test('lightbus.config.mjs and .cjs', async () => {
    const esm = project({ 'lightbus.config.mjs': `export default { serviceName: 'from_mjs' };\n` });
    assert.equal((await loadConfig({ cwd: esm.dir, env: {} })).serviceName, 'from_mjs');
    const cjs = project({ 'lightbus.config.cjs': `module.exports = { serviceName: 'from_cjs' };\n` });
    assert.equal((await loadConfig({ cwd: cjs.dir, env: {} })).serviceName, 'from_cjs');
  });

  test('lightbus.config.js in an ESM package', async () => {
    const p = project({
      'package.json': JSON.stringify({ name: 'js-esm', type: 'module' }),
      'lightbus.config.js': `export default { serviceName: 'from_js' };\n`,
    });
    assert.equal((await loadConfig({ cwd: p.dir, env: {} })).serviceName, 'from_js');
  });

  test('lightbus.config.json', async () => {
    const p = project({ 'lightbus.config.json': JSON.stringify({ serviceName: 'from_json', rpc: { resultTtlMs: 900 } }) });
    const config = await loadConfig({ cwd: p.dir, env: {} });
    assert.equal(config.serviceName, 'from_json');
    assert.equal(config.rpc.resultTtlMs, 900);
  });

  test('lightbus.config.yaml, .yml and .lightbusrc (YAML without extension)', async () => {
    for (const name of ['lightbus.config.yaml', 'lightbus.config.yml', '.lightbusrc', '.lightbusrc.yaml']) {
      const p = project({ [name]: 'serviceName: from_yaml\nevents:\n  streamUse: per_event\n  maxStreamLength: null\n' });
      const config = await loadConfig({ cwd: p.dir, env: {} });
      assert.equal(config.serviceName, 'from_yaml', name);
      assert.equal(config.events.streamUse, 'per_event', name);
      assert.equal(config.events.maxStreamLength, null, name);
    }
  });

  test('the search goes up from a subdirectory', async () => {
    const p = project({ 'lightbus.config.json': JSON.stringify({ serviceName: 'parent' }), 'a/b/c/.keep': '' });
    const config = await loadConfig({ cwd: join(p.dir, 'a/b/c'), env: {} });
    assert.equal(config.serviceName, 'parent');
    assert.equal(config.source, join(p.dir, 'lightbus.config.json'));
  });

  test('an empty config file means defaults', async () => {
    const p = project({ 'lightbus.config.yaml': '', 'package.json': JSON.stringify({ name: 'empty-file' }) });
    const config = await loadConfig({ cwd: p.dir, env: {} });
    assert.equal(config.serviceName, 'empty-file');
    assert.equal(config.events.batchSize, 100);
  });

  test('a file that cannot be parsed is a ConfigError naming it', async () => {
    const p = project({ 'lightbus.config.json': '{ "serviceName": ' });
    await assert.rejects(loadConfig({ cwd: p.dir, env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /lightbus\.config\.json/);
      assert.match(error.message, /could not be loaded/);
      return true;
    });
  });
});

describe('naming the config file', () => {
  test('configPath (--config), relative to cwd, wins over discovery', async () => {
    const p = project({
      'lightbus.config.json': JSON.stringify({ serviceName: 'discovered' }),
      'conf/other.yaml': 'serviceName: named\n',
    });
    const config = await loadConfig({ cwd: p.dir, configPath: 'conf/other.yaml', env: {} });
    assert.equal(config.serviceName, 'named');
    assert.equal(config.source, join(p.dir, 'conf/other.yaml'));
  });

  test('LIGHTBUS_CONFIG names the file when configPath is not given', async () => {
    const p = project({ 'lightbus.config.json': '{}', 'x.json': JSON.stringify({ serviceName: 'from_env_file' }) });
    const config = await loadConfig({ cwd: p.dir, env: { LIGHTBUS_CONFIG: join(p.dir, 'x.json') } });
    assert.equal(config.serviceName, 'from_env_file');
  });

  test('a named file that does not exist is an error naming the path and where it came from', async () => {
    const p = project({});
    await assert.rejects(loadConfig({ cwd: p.dir, configPath: 'nope.ts', env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(join(p.dir, 'nope.ts')), error.message);
      assert.match(error.message, /--config/);
      return true;
    });
    await assert.rejects(loadConfig({ cwd: p.dir, env: { LIGHTBUS_CONFIG: '/nonexistent/lightbus.json' } }), /\/nonexistent\/lightbus\.json.*LIGHTBUS_CONFIG/);
  });

  test('inline config: no file is read', async () => {
    const p = project({ 'lightbus.config.json': JSON.stringify({ serviceName: 'file' }) });
    const config = await loadConfig({ cwd: p.dir, env: {}, inline: { serviceName: 'inline' } });
    assert.equal(config.serviceName, 'inline');
    assert.equal(config.source, undefined);
  });
});

describe('precedence: flags > environment > file > defaults', () => {
  const file = JSON.stringify({
    serviceName: 'file_service',
    processName: 'file_process',
    logLevel: 'warn',
    redis: { url: 'redis://file-host:6379/1' },
    runner: { workers: 2, concurrency: 8 },
  });

  test('file over defaults', async () => {
    const p = project({ 'lightbus.config.json': file });
    const config = await loadConfig({ cwd: p.dir, env: {} });
    assert.equal(config.serviceName, 'file_service');
    assert.equal(config.processName, 'file_process');
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.redis.url, 'redis://file-host:6379/1');
    assert.deepEqual(config.runner, { workers: 2, concurrency: 8, shutdownGraceMs: 10000, maxCrashRedeliveries: 3 });
  });

  test('environment over file', async () => {
    const p = project({ 'lightbus.config.json': file });
    const config = await loadConfig({
      cwd: p.dir,
      env: {
        LIGHTBUS_SERVICE_NAME: 'env_service',
        LIGHTBUS_PROCESS_NAME: 'env_process',
        LIGHTBUS_LOG_LEVEL: 'debug',
        LIGHTBUS_REDIS_URL: 'rediss://env-host:6380/2',
      },
    });
    assert.equal(config.serviceName, 'env_service');
    assert.equal(config.processName, 'env_process');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.redis.url, 'rediss://env-host:6380/2');
  });

  test('an empty environment variable counts as unset', async () => {
    const p = project({ 'lightbus.config.json': file });
    const config = await loadConfig({ cwd: p.dir, env: { LIGHTBUS_SERVICE_NAME: '', LIGHTBUS_CONFIG: '' } });
    assert.equal(config.serviceName, 'file_service');
  });

  test('flags over environment', async () => {
    const p = project({ 'lightbus.config.json': file });
    const config = await loadConfig({
      cwd: p.dir,
      env: { LIGHTBUS_SERVICE_NAME: 'env_service', LIGHTBUS_LOG_LEVEL: 'debug', LIGHTBUS_REDIS_URL: 'redis://env-host/0' },
      flags: { serviceName: 'flag_service', logLevel: 'error', redisUrl: 'redis://flag-host/3', workers: 5 },
    });
    assert.equal(config.serviceName, 'flag_service');
    assert.equal(config.logLevel, 'error');
    assert.equal(config.redis.url, 'redis://flag-host/3');
    assert.equal(config.runner.workers, 5);
    assert.equal(config.runner.concurrency, 8);
    assert.equal(config.processName, 'file_process');
  });

  test('defaults', () => {
    const config = resolveConfig({}, { env: {}, cwd: '/' });
    assert.equal(config.transport, 'redis');
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.redis, { url: 'redis://127.0.0.1:6379/0' });
    assert.deepEqual(config.events, {
      batchSize: 100,
      acknowledgementTimeoutMs: 60000,
      maxStreamLength: 100000,
      streamUse: 'per_api',
      deadLetterStream: 'lightbus:dead_letter:stream',
    });
    assert.deepEqual(config.rpc, { resultTtlMs: 60000 });
    assert.deepEqual(config.schema, { ttlMs: 60000 });
    assert.deepEqual(config.runner, { shutdownGraceMs: 10000, maxCrashRedeliveries: 3 });
    assert.deepEqual(config.apis, {});
    assert.match(config.processName, /^[A-Za-z0-9_.-]+-\d+$/);
    assert.ok(config.processName.endsWith(`-${process.pid}`));
  });

  test('redis.keys: absent is the python layout, hash-tagged is kept beside a cluster', () => {
    assert.equal(keyLayoutOf(resolveConfig({}, { env: {}, cwd: '/' }).redis), PYTHON_KEYS);
    const config = resolveConfig({ redis: { cluster: { nodes: ['redis://10.0.0.1:7000'] }, keys: 'hash-tagged' } }, { env: {}, cwd: '/' });
    assert.equal(config.redis.keys, 'hash-tagged');
    assert.equal(keyLayoutOf(config.redis), HASH_TAGGED_KEYS);
    assert.equal(keyLayoutOf(resolveConfig({ redis: { keys: 'python' } }, { env: {}, cwd: '/' }).redis), PYTHON_KEYS);
  });

  test('keys set to undefined in a .ts config do not hide defaults', () => {
    const config = resolveConfig({ events: { batchSize: undefined, streamUse: 'per_event' } }, { env: {}, cwd: '/' });
    assert.equal(config.events.batchSize, 100);
    assert.equal(config.events.streamUse, 'per_event');
  });

  test('resolveConfig applies the environment it is given', () => {
    const config = resolveConfig({ serviceName: 'inline' }, { env: { LIGHTBUS_SERVICE_NAME: 'env' }, cwd: '/' });
    assert.equal(config.serviceName, 'env');
  });

  test('tls settings are kept', () => {
    const config = resolveConfig({ redis: { url: 'rediss://h:6380/0', tls: { ca: '/etc/ca.pem', rejectUnauthorized: true } } }, { env: {}, cwd: '/' });
    assert.deepEqual(config.redis, { url: 'rediss://h:6380/0', tls: { ca: '/etc/ca.pem', rejectUnauthorized: true } });
  });
});

describe('apiConfig', () => {
  test('an API entry over default over built-in defaults', () => {
    const config = resolveConfig(
      {
        apis: {
          default: { rpcTimeoutMs: 2000, validate: { incoming: false }, strictValidation: true, whenNoServer: 'wait' },
          auth: { rpcTimeoutMs: 9000, validate: { outgoing: false }, whenNoServer: 'fail' },
        },
      },
      { env: {}, cwd: '/' },
    );
    assert.deepEqual(apiConfig(config, 'auth'), {
      rpcTimeoutMs: 9000,
      fireTimeoutMs: 5000,
      validate: { outgoing: false, incoming: false },
      strictValidation: true,
      whenNoServer: 'fail',
    });
    assert.deepEqual(apiConfig(config, 'billing'), {
      rpcTimeoutMs: 2000,
      fireTimeoutMs: 5000,
      validate: { outgoing: true, incoming: false },
      strictValidation: true,
      whenNoServer: 'wait',
    });
    assert.deepEqual(apiConfig(resolveConfig({}, { env: {}, cwd: '/' }), 'auth'), {
      rpcTimeoutMs: 5000,
      fireTimeoutMs: 5000,
      validate: { outgoing: true, incoming: true },
      strictValidation: false,
      whenNoServer: 'fail',
    });
  });

  test('the resolved apis are a copy of the input', () => {
    const input = { apis: { auth: { rpcTimeoutMs: 100 } } };
    const config = resolveConfig(input, { env: {}, cwd: '/' });
    input.apis.auth.rpcTimeoutMs = 200;
    assert.equal(config.apis['auth']?.rpcTimeoutMs, 100);
  });
});
