import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { redisUrlProblem } from '../../src/config/validate.js';
import { redactUrl } from '../../src/core/redact-url.js';
import { ConfigError } from '../../src/errors.js';
import { tempProject, type TempProject } from './helpers.js';

const projects: TempProject[] = [];
after(() => projects.forEach((p) => p.remove()));

/** The ConfigError that loading `config` (as lightbus.config.json) throws. */
async function errorOf(config: unknown, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  const p = tempProject({ 'lightbus.config.json': JSON.stringify(config) });
  projects.push(p);
  try {
    await loadConfig({ cwd: p.dir, env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('the config was accepted');
}

describe('config errors name the file, the key and the problem', () => {
  test('wrong type', async () => {
    const error = await errorOf({ apis: { auth: { rpcTimeoutMs: '5s' } } });
    assert.equal(error.message, 'lightbus.config.json: apis.auth.rpcTimeoutMs must be an integer >= 1 (milliseconds), got "5s"');
    assert.equal(error.keyPath, 'apis.auth.rpcTimeoutMs');
    assert.match(error.file ?? '', /lightbus\.config\.json$/);
  });

  test('out of range', async () => {
    const error = await errorOf({ events: { batchSize: 0 } });
    assert.equal(error.message, 'lightbus.config.json: events.batchSize must be an integer from 1 to 10000, got 0');
  });

  test('bad enum', async () => {
    const error = await errorOf({ events: { streamUse: 'per_stream' } });
    assert.equal(error.message, 'lightbus.config.json: events.streamUse must be one of "per_api", "per_event", got "per_stream"');
    const policy = await errorOf({ apis: { default: { whenNoServer: 'retry' } } });
    assert.equal(policy.message, 'lightbus.config.json: apis.default.whenNoServer must be one of "fail", "wait", got "retry"');
    const keys = await errorOf({ redis: { keys: 'hashtagged' } });
    assert.equal(keys.message, 'lightbus.config.json: redis.keys must be one of "python", "hash-tagged", got "hashtagged"');
    assert.equal(keys.keyPath, 'redis.keys');
  });

  test('unknown key, with a guess at the intended one', async () => {
    assert.equal((await errorOf({ redis: { uri: 'redis://h/0' } })).message, 'lightbus.config.json: unknown key "redis.uri" (did you mean "url"?)');
    assert.equal(
      (await errorOf({ events: { batch_size: 5 } })).message,
      'lightbus.config.json: unknown key "events.batch_size" (did you mean "batchSize"?)',
    );
    assert.match(
      (await errorOf({ rpc: { expiryMs: 5000 } })).message,
      /^lightbus\.config\.json: "rpc\.expiryMs" is no longer a setting: a call's expiry marker now lives as long as its caller waits .*rpcTimeoutMs.*Delete the key$/,
    );
    const bogus = await errorOf({ bogusKey: 1 });
    assert.match(bogus.message, /^lightbus\.config\.json: unknown key "bogusKey"/);
    assert.equal(bogus.keyPath, 'bogusKey');
  });

  test('API names with dots are quoted in key paths', async () => {
    const error = await errorOf({ apis: { 'my_company.auth': { fireTimeoutMs: -1 } } });
    assert.match(error.message, /apis\["my_company\.auth"\]\.fireTimeoutMs must be an integer >= 1/);
  });

  test('a config that is not an object', async () => {
    const error = await errorOf([1, 2]);
    assert.match(error.message, /^lightbus\.config\.json: the configuration must be an object, got \[1,2\]$/);
  });

  test('every problem is reported, one per line', async () => {
    const error = await errorOf(
      { bogusKey: 1, events: { streamUse: 'x' }, apis: { auth: { rpcTimeoutMs: '5s' } }, redis: { url: 'http://h' } },
      { LIGHTBUS_LOG_LEVEL: 'loud' },
    );
    const lines = error.message.split('\n');
    assert.equal(lines.length, 5, error.message);
    assert.ok(lines.some((l) => l.startsWith('lightbus.config.json: unknown key "bogusKey"')));
    assert.ok(lines.some((l) => l.startsWith('lightbus.config.json: events.streamUse must be one of')));
    assert.ok(lines.some((l) => l.startsWith('lightbus.config.json: apis.auth.rpcTimeoutMs must be')));
    assert.ok(lines.some((l) => l.startsWith('lightbus.config.json: redis.url must be a Redis URL')));
    assert.ok(lines.some((l) => l.startsWith('environment: LIGHTBUS_LOG_LEVEL must be one of "trace"')));
  });

  test('bad flags are named as flags', () => {
    assert.throws(
      () => resolveConfig({}, { env: {}, cwd: '/', flags: { workers: 0, logLevel: 'loud' } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^command line: --log-level must be one of/m);
        assert.match(error.message, /^command line: --workers must be an integer from 1 to 256, got 0$/m);
        return true;
      },
    );
  });

  test('an inline config is labelled as such', () => {
    assert.throws(() => resolveConfig({ transport: 'kafka' }, { env: {}, cwd: '/' }), {
      message: 'config: transport must be one of "redis", "memory", got "kafka"',
    });
  });
});

describe('Redis URLs', () => {
  test('a bad URL in the file names the key, shows a good example and hides the password', async () => {
    const error = await errorOf({ redis: { url: 'http://admin:hunter2@cache:6379/0' } });
    assert.match(error.message, /^lightbus\.config\.json: redis\.url must be a Redis URL such as redis:\/\/:password@127\.0\.0\.1:6379\/0/);
    assert.match(error.message, /"http:\/\/admin:\*\*\*@cache:6379\/0"/);
    assert.match(error.message, /scheme is "http"/);
    assert.ok(!error.message.includes('hunter2'), error.message);
  });

  test('a bad URL from the environment names the variable and hides the password', async () => {
    const error = await errorOf({}, { LIGHTBUS_REDIS_URL: 'redis://:hunter2@cache:6379/zero' });
    assert.match(error.message, /^environment: LIGHTBUS_REDIS_URL must be a Redis URL/);
    assert.match(error.message, /database number/);
    assert.ok(!error.message.includes('hunter2'), error.message);
    assert.equal(error.keyPath, 'LIGHTBUS_REDIS_URL');
  });

  test('a URL that does not parse at all still hides the password', async () => {
    const error = await errorOf({ redis: { url: 'redis://user:hunter2@[bad' } });
    assert.match(error.message, /does not parse/);
    assert.ok(!error.message.includes('hunter2'), error.message);
  });

  test('good URLs pass; the password stays in the resolved config', () => {
    for (const url of ['redis://127.0.0.1:6379/0', 'rediss://user:pw@redis.example.com:6380/2', 'redis://localhost', 'redis://[::1]:6379/']) {
      assert.equal(redisUrlProblem(url), undefined, url);
    }
    const config = resolveConfig({ redis: { url: 'rediss://user:pw@h:6380/2' } }, { env: {}, cwd: '/' });
    assert.equal(config.redis.url, 'rediss://user:pw@h:6380/2');
  });

  test('bad URLs are caught', () => {
    assert.match(redisUrlProblem('localhost:6379') ?? '', /scheme/);
    assert.match(redisUrlProblem('redis://') ?? '', /no host/);
    assert.match(redisUrlProblem('redis://h:port/0') ?? '', /does not parse/);
  });

  test('redactUrl', () => {
    assert.equal(redactUrl('redis://user:secret@h:6379/0'), 'redis://user:***@h:6379/0');
    assert.equal(redactUrl('redis://:secret@h'), 'redis://:***@h');
    assert.equal(redactUrl('redis://h:6379/0'), 'redis://h:6379/0');
    assert.equal(redactUrl('connecting to rediss://u:p@a and redis://:q@b'), 'connecting to rediss://u:***@a and redis://:***@b');
    assert.equal(redactUrl('redis://user@h:6379/0'), 'redis://user@h:6379/0');
  });

  test('redactUrl hides passwords with quotes, spaces and @ in them, in a lone URL and inside a message', () => {
    const cases = [
      ["redis://u:it's-s3cret@127.0.0.1:1/0", "redis://u:***@127.0.0.1:1/0"],
      ['redis://u:say"s3cret"@h/0', 'redis://u:***@h/0'],
      ['redis://u:two words s3cret@h:6379/0', 'redis://u:***@h:6379/0'],
      ['redis://:p@ss@s3cret@h', 'redis://:***@h'],
      ["cannot reach Redis at redis://u:it's-s3cret@127.0.0.1:1/0: connect ECONNREFUSED 127.0.0.1:1", 'cannot reach Redis at redis://u:***@127.0.0.1:1/0: connect ECONNREFUSED 127.0.0.1:1'],
      ['{"url":"redis://u:q\\"s3cret@h"}', '{"url":"redis://***@h"}'], // JSON-escaped: the backslash stops the parser
      // Not parseable: everything between // and the last @ goes.
      ['redis://u:s3cret/x@h', 'redis://***@h'],
      ['redis://u:s3cret#x@h', 'redis://***@h'],
      ['redis://u:s3cret@[bad', 'redis://***@[bad'],
    ];
    for (const [url, expected] of cases) {
      const redacted = redactUrl(url!);
      assert.equal(redacted, expected, url);
      assert.ok(!redacted.includes('s3cret'), redacted);
    }
  });
});
