/** The CLI's own surface, through the real `bin/run.js` in a child process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { ensureBuilt } from '../helpers/built-dist.js';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/run.js', ...args], { encoding: 'utf8', timeout: 30_000 });
before(() => ensureBuilt());

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

test('--version prints the version', () => {
  const result = run('--version');
  assert.equal(result.status, 0);
  assert.match(result.stdout, new RegExp(`^lightbus/${version.replace(/\./g, '\\.')} `));
});

test('--help lists the commands, and each command has its own complete help', () => {
  const result = run('--help');
  assert.equal(result.status, 0);
  assert.match(result.stdout, /USAGE\s+\$ lightbus \[COMMAND\]/);
  assert.match(result.stdout, /^\s+run\s/m);
  const help = run('run', '--help');
  assert.equal(help.status, 0);
  for (const part of ['--workers', '--inline', '--watch', '--only', '--skip', '--config', '--service-name', '--process-name', '--log-level', 'EXAMPLES', 'Exit codes']) {
    assert.ok(help.stdout.includes(part), `run --help mentions ${part}`);
  }
});

test('an unknown command or flag is a usage error (exit 2)', () => {
  const command = run('no-such-command');
  assert.equal(command.status, 2);
  assert.match(command.stderr, /command no-such-command not found/);
  const flag = run('run', 'examples/bus.ts', '--no-such-flag');
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /Nonexistent flag: --no-such-flag/);
});

test('an invalid config stops the start, naming the file and the key', () => {
  const result = spawnSync(process.execPath, ['bin/run.js', 'run', 'examples/bus.ts', '--workers', '1'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, LIGHTBUS_REDIS_URL: 'http://127.0.0.1:6379' },
  });
  assert.equal(result.status, 5);
  assert.match(result.stderr, /LIGHTBUS_REDIS_URL must be a Redis URL/);
});
