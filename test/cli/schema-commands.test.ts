/**
 * `lightbus dumpschema`, `dumpconfigschema` and `codegen`, run as a user runs them
 * (`node bin/run.js ...` in a child process, from dist/: `npm run build` first) against the
 * real Redis, with schemas published there under names of this run, in the form Python
 * Lightbus publishes them and in the form this package does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { Redis } from 'ioredis';
import { apiSchema, defineApi, event, rpc, Type } from '../../src/index.js';
import { generateDeclarations } from '../../src/schema/codegen.js';
import { ensureBuilt } from '../helpers/built-dist.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName } from '../helpers/wait.js';
import { pythonStoreSchema } from '../schema/fixtures/python-schemas.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED_REDIS = 'redis://127.0.0.1:6379/0';
const redis = new Redis(SHARED_REDIS);
const outDir = mkdtempSync(join(tmpdir(), 'lightbus-schema-cli-'));
const published: string[] = [];
let privateRedis: RedisServer | undefined;

const pyApi = uniqueName('py');
const tsApi = uniqueName('ts');
const localApi = uniqueName('local');
const schemas: Record<string, unknown> = {
  [pyApi]: pythonStoreSchema(pyApi),
  [tsApi]: apiSchema(
    defineApi(tsApi, {
      rpcs: { check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()) },
      events: { user_registered: event({ username: Type.String(), email: Type.String({ format: 'email' }) }) },
    }),
  ),
};

/** Publishes a schema the way a serving process does (wire contract, "Schemas"). */
async function publish(api: string, schema: unknown): Promise<void> {
  published.push(api);
  await redis.multi().set(`schema:${api}`, JSON.stringify(schema), 'PX', 120_000).sadd('schemas', api).exec();
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function lightbus(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/run.js'), ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolvePromise({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** The summary and error lines, without oclif's line wrapping and `›` prefixes. */
const flat = (text: string) => text.replace(/\n\s*›\s*/g, ' ').replace(/\s+/g, ' ');

before(async () => {
  ensureBuilt();
  for (const [api, schema] of Object.entries(schemas)) await publish(api, schema);
});

after(async () => {
  for (const api of published) {
    await redis.del(`schema:${api}`);
    await redis.srem('schemas', api);
  }
  redis.disconnect();
  await privateRedis?.stop();
  rmSync(outDir, { recursive: true, force: true });
});

test('dumpschema writes every API on the bus as one JSON document on stdout, with a summary on stderr', async () => {
  const result = await lightbus(['dumpschema', '--redis-url', SHARED_REDIS]);
  assert.equal(result.code, 0, result.stderr);
  const document = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.deepEqual(document[pyApi], schemas[pyApi]);
  assert.deepEqual(document[tsApi], schemas[tsApi]);
  assert.match(flat(result.stderr), /Schemas of \d+ APIs \(\d+ from the bus at redis:\/\/127\.0\.0\.1:6379\/0\) written to stdout: .*/);
  assert.ok(result.stderr.includes(pyApi));
});

test('dumpschema --out FILE writes the document to the file; --out DIR/ writes one <api>.json per API', async () => {
  const file = join(outDir, 'nested', 'schemas.json');
  const toFile = await lightbus(['dumpschema', '--redis-url', SHARED_REDIS, '--out', file]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout, '');
  assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[pyApi], schemas[pyApi]);
  assert.ok(flat(toFile.stderr).includes(`written to ${file}`));

  const dir = join(outDir, 'per-api');
  const toDir = await lightbus(['dumpschema', '--redis-url', SHARED_REDIS, '-o', `${dir}/`]);
  assert.equal(toDir.code, 0, toDir.stderr);
  const files = readdirSync(dir);
  assert.ok(files.includes(`${pyApi}.json`) && files.includes(`${tsApi}.json`), files.join(', '));
  // Each file holds { "<api>": schema }, the layout Python Lightbus writes and reads.
  assert.deepEqual(JSON.parse(readFileSync(join(dir, `${tsApi}.json`), 'utf8')), { [tsApi]: schemas[tsApi] });
  assert.match(flat(toDir.stderr), new RegExp(`written to \\d+ files in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('dumpschema MODULES adds the APIs the modules export and serve, without serving them; their definition wins over the bus', async () => {
  const module = join(repoRoot, 'test/cli/fixtures/schema-module.ts');
  const env = { LIGHTBUS_TEST_API: localApi };
  const localOnly = await lightbus(['dumpschema', module, '--no-bus'], env);
  assert.equal(localOnly.code, 0, localOnly.stderr);
  // What the module printed went to stderr: stdout is the document alone.
  const document = JSON.parse(localOnly.stdout) as Record<string, { rpcs: Record<string, { parameters: Record<string, unknown> }> }>;
  assert.deepEqual(Object.keys(document), [localApi, `${localApi}_served`]);
  assert.deepEqual(Object.keys(document[localApi]!.rpcs), ['greet']);
  assert.equal(document[`${localApi}_served`]!.rpcs['add']!.parameters['title'], `RPC ${localApi}_served.add() parameters`);
  assert.ok(localOnly.stderr.includes('schema-module loaded'));
  assert.match(flat(localOnly.stderr), /Schemas of 2 APIs \(2 from the modules\)/);
  assert.equal(await redis.exists(`schema:${localApi}_served`), 0, 'loading a module does not publish (serve) anything');

  await publish(localApi, { rpcs: { stale_member: { parameters: { type: 'object' }, response: {} } }, events: {} });
  const both = await lightbus(['dumpschema', module, '--redis-url', SHARED_REDIS], env);
  assert.equal(both.code, 0, both.stderr);
  const merged = JSON.parse(both.stdout) as typeof document;
  assert.deepEqual(Object.keys(merged[localApi]!.rpcs), ['greet']);
  assert.deepEqual(merged[pyApi], schemas[pyApi]);
});

test('dumpschema errors name the fix: no schemas on the bus, Redis unreachable, a module that fails or is missing', async () => {
  privateRedis = await startRedisServer();
  const empty = await lightbus(['dumpschema', '--redis-url', privateRedis.url]);
  assert.equal(empty.code, 4);
  assert.equal(empty.stdout, '');
  assert.match(flat(empty.stderr), /no API schemas on the bus at redis:\/\/127\.0\.0\.1:\d+\/0: no process is serving any API there\. Start one with `lightbus run/);

  const codegenEmpty = await lightbus(['codegen', '--redis-url', privateRedis.url, '--out', join(outDir, 'never.d.ts')]);
  assert.equal(codegenEmpty.code, 4);
  assert.match(flat(codegenEmpty.stderr), /no process is serving any API there\. Start the services whose APIs you want typed \(`lightbus run/);
  assert.equal(existsSync(join(outDir, 'never.d.ts')), false);

  const url = privateRedis.url;
  await privateRedis.stop();
  const unreachable = await lightbus(['dumpschema', '--redis-url', url, '--timeout', '500']);
  assert.equal(unreachable.code, 5);
  assert.match(flat(unreachable.stderr), /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);

  const broken = await lightbus(['dumpschema', join(repoRoot, 'test/cli/fixtures/broken-module.ts'), '--no-bus']);
  assert.equal(broken.code, 1);
  assert.match(flat(broken.stderr), /could not load .*broken-module\.ts: boom at import time/);

  const missing = await lightbus(['dumpschema', 'no/such/module.ts']);
  assert.equal(missing.code, 4);
  assert.match(flat(missing.stderr), /module not found: .*no\/such\/module\.ts/);
});

test('dumpconfigschema writes a draft-07 JSON Schema of the config that validates real configs', async () => {
  const result = await lightbus(['dumpconfigschema']);
  assert.equal(result.code, 0, result.stderr);
  const schema = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
  assert.ok(Object.keys(schema['properties'] as object).includes('redis'));
  const validate = new Ajv({ strict: false }).compile(schema);
  assert.ok(validate({ serviceName: 'shop', redis: { url: 'redis://127.0.0.1:6379/0' }, apis: { default: { rpcTimeoutMs: 2000 } } }), JSON.stringify(validate.errors));
  assert.equal(validate({ redis: { url: 'http://nope' } }), false);
  assert.equal(validate({ apis: { auth: { rpcTimeoutMs: '5s' } } }), false);
  assert.equal(validate({ unknownKey: 1 }), false);

  const file = join(outDir, 'config.schema.json');
  const toFile = await lightbus(['dumpconfigschema', '--out', file]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), schema);
  assert.ok(flat(toFile.stderr).includes(`Configuration schema written to ${file}`));
});

test('codegen writes the declarations of the APIs asked for, from the bus or from a dump, identical to the library output', async () => {
  const file = join(outDir, 'types', 'remote.d.ts');
  const result = await lightbus(['codegen', '--redis-url', SHARED_REDIS, '--out', file, '--api', pyApi, '-a', tsApi]);
  assert.equal(result.code, 0, result.stderr);
  const expected = generateDeclarations({ [pyApi]: schemas[pyApi], [tsApi]: schemas[tsApi] }).text;
  assert.equal(readFileSync(file, 'utf8'), expected);
  assert.ok(flat(result.stderr).includes(`Types for 4 RPCs and 2 events of 2 APIs (${[pyApi, tsApi].sort().join(', ')}) written to ${file}`));

  const dump = join(outDir, 'dump-for-codegen.json');
  assert.equal((await lightbus(['dumpschema', '--redis-url', SHARED_REDIS, '--out', dump])).code, 0);
  const fromDump = await lightbus(['codegen', '--from', dump, '--out', '-', '--api', pyApi, '--api', tsApi]);
  assert.equal(fromDump.code, 0, fromDump.stderr);
  const body = (text: string) => text.slice(text.indexOf('export {};'));
  assert.equal(body(fromDump.stdout), body(expected));
  assert.ok(fromDump.stdout.startsWith(`// Generated by \`lightbus codegen\` from ${dump}.`));
});

test('codegen --api with a name not on the bus says which, lists what is there and points at lightbus run', async () => {
  const ghost = uniqueName('ghost');
  const result = await lightbus(['codegen', '--redis-url', SHARED_REDIS, '--out', join(outDir, 'ghost.d.ts'), '--api', ghost, '--api', pyApi]);
  assert.equal(result.code, 4);
  const text = flat(result.stderr);
  assert.ok(text.includes(`no schema for "${ghost}" in the bus at ${SHARED_REDIS}`), text);
  assert.ok(text.includes(pyApi), 'lists the APIs that are there');
  assert.match(text, /Start it with `lightbus run`/);
  assert.equal(existsSync(join(outDir, 'ghost.d.ts')), false);

  const noOut = await lightbus(['codegen']);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /Missing required flag out/);
});

test('--help of each command describes it and shows examples', async () => {
  for (const [command, mustMention] of [
    ['dumpschema', ['--out=FILE|DIR', '--[no-]bus', 'MODULES', 'EXAMPLES', 'dumpschema --out schemas/']],
    ['dumpconfigschema', ['--out=FILE', 'EXAMPLES', 'yaml-language-server']],
    ['codegen', ['--out=FILE', '--api=NAME', '--from=FILE|DIR', 'EXAMPLES', 'RemoteRpcs', "bus.call('auth.check_password'"]],
  ] as const) {
    const result = await lightbus([command, '--help']);
    assert.equal(result.code, 0, result.stderr);
    for (const text of mustMention) assert.ok(result.stdout.includes(text), `${command} --help lacks "${text}":\n${result.stdout}`);
  }
});
