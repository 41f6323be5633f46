/**
 * A piped `lightbus shell` with Redis down fails as `lightbus call` does (exit 5, "cannot reach
 * Redis at ..."), instead of waiting for Redis forever with a script nobody watches.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../inspect/cli-runner.js';
import { ensureBuilt, exitOf } from './support.js';
import { closedPort } from '../helpers/ports.js';


test('a piped shell with Redis down exits 5 with "cannot reach Redis at <url>", as call does', async () => {
  ensureBuilt();
  const port = await closedPort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LIGHTBUS_')));
  const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'shell', '--redis-url', `redis://user:hunter2@127.0.0.1:${port}/0`], {
    cwd: ROOT,
    env: { ...env, NO_COLOR: '1', LIGHTBUS_HISTORY: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end("'never runs'\n");
  // The bound is generous for a busy machine: the connect timeout is 5 s, a refusal is immediate.
  const code = await exitOf(child, `the piped shell to give up on Redis (stderr so far: ${JSON.stringify(stderr)})`, 20_000);
  assert.equal(code, 5, stderr);
  assert.match(stderr, new RegExp(`^Error: cannot reach Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0: .*ECONNREFUSED`, 'm'));
  assert.doesNotMatch(stderr + stdout, /hunter2/);
  assert.doesNotMatch(stdout, /never runs/);
});
