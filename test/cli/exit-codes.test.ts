// One exit code per situation, whichever command meets it; error messages printed whole.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { ensureBuilt, ROOT, runCli } from '../inspect/cli-runner.js';
import { closedPort } from '../helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'lightbus-exit-codes-'));
const module = join(ROOT, 'examples', 'bus.ts');
/** Every command that reads the config, with arguments that would otherwise go on to Redis. */
const COMMANDS: string[][] = [
  ['run', module, '--workers', '1'],
  ['shell'],
  ['codegen', '--out', join(dir, 'never.d.ts'), '--timeout', '2000'],
  ['dumpschema', '--timeout', '2000'],
  ['call', 'auth.check_password', 'username=admin'],
  ['fire', 'auth.user_registered', 'username=ada'],
  ['inspect'],
  ['inspect', 'processes'],
  ['inspect', 'events'],
  ['inspect', 'dead-letters'],
];

let invalidConfig: string;
let unreachableConfig: string;

before(async () => {
  ensureBuilt();
  invalidConfig = join(dir, 'invalid.json');
  writeFileSync(invalidConfig, JSON.stringify({ redis: { url: 5 } }));
  const port = await closedPort();
  unreachableConfig = join(dir, 'unreachable.json');
  writeFileSync(unreachableConfig, JSON.stringify({ serviceName: 'exit_codes', redis: { url: `redis://127.0.0.1:${port}/0` } }));
});

after(() => rmSync(dir, { recursive: true, force: true }));

// `run` waits for a Redis it cannot reach (test/runtime/redis-never-reachable.test.ts): it is left
// out of that row only.
for (const [situation, config, code, commands] of [
  ['an invalid config file', () => invalidConfig, ExitCode.unavailable, COMMANDS],
  ['Redis unreachable (a closed loopback port)', () => unreachableConfig, ExitCode.unavailable, COMMANDS.filter((args) => args[0] !== 'run')],
] as const) {
  test(`${situation}: every command exits ${code}`, async () => {
    const COMMANDS = commands;
    // A few at a time: ten CLIs starting at once on a busy 2-core machine run past runCli's bound.
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < COMMANDS.length; i += 3) results.push(...(await Promise.all(COMMANDS.slice(i, i + 3).map((args) => runCli([...args, '--config', config()])))));
    const codes = Object.fromEntries(COMMANDS.map((args, i) => [args.slice(0, 2).join(' '), results[i]!.code]));
    assert.deepEqual(codes, Object.fromEntries(COMMANDS.map((args) => [args.slice(0, 2).join(' '), code])), JSON.stringify(results.map((r) => r.stderr)));
  });
}

test('each command lists in --help only the exit codes it can return', async () => {
  const [call, inspect, dumpconfigschema] = await Promise.all([runCli(['call', '--help']), runCli(['inspect', '--help']), runCli(['dumpconfigschema', '--help'])]);
  const listed = (help: string) => [...help.slice(help.indexOf('Exit codes:')).matchAll(/^\s+([0-9])  /gm)].map((m) => Number(m[1]));
  assert.deepEqual(listed(call.stdout), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(listed(inspect.stdout), [0, 2, 5]);
  assert.deepEqual(listed(dumpconfigschema.stdout), [0, 2]);
});

test('a long error message is printed whole: no word or path cut at 80 columns', async () => {
  const missing = join(dir, 'a-directory-with-a-rather-long-name-for-the-test', 'and-a-module-whose-name-is-long-too.ts');
  const result = await runCli(['run', missing]);
  assert.equal(result.code, ExitCode.notFound);
  assert.ok(result.stderr.includes(`module not found: ${missing}`), result.stderr);
});

test('a module with a syntax error is reported once', async () => {
  const project = mkdtempSync(join(dir, 'syntax-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  const broken = join(project, 'broken.ts');
  writeFileSync(broken, 'export const value = (;\n');
  const result = await runCli(['run', broken, '--workers', '1', '--redis-url', 'redis://127.0.0.1:6379/0', '--service-name', 'syntax_once']);
  assert.equal(result.code, ExitCode.failed, result.stderr);
  const output = result.stdout + result.stderr;
  const reports = output.split('\n').filter((line) => line.includes(`could not load ${broken}`));
  assert.equal(reports.length, 1, output);
});
