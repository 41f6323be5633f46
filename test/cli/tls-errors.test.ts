/**
 * TLS failures name their fix. A private `redis-server` speaking only TLS (`--port 0`), with a
 * self-signed certificate made here with `openssl`, started and stopped by pid; the real CLI
 * in a child process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, runCli, tempConfig } from '../inspect/cli-runner.js';
import { closedPort as freePort } from '../helpers/ports.js';


async function accepts(port: number): Promise<boolean> {
  const socket = new Socket();
  try {
    return await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1', () => resolve(true));
    });
  } finally {
    socket.destroy();
  }
}

describe('TLS errors name the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-tls-'));
  const cert = join(dir, 'redis.crt');
  const key = join(dir, 'redis.key');
  const configs: Array<{ remove(): void }> = [];
  let server: ChildProcess | undefined;
  let url = '';

  before(async () => {
    ensureBuilt();
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
    assert.equal(made.status, 0, `openssl: ${made.stderr}`);
    const port = await freePort();
    url = `rediss://127.0.0.1:${port}/0`;
    server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 100 && !(await accepts(port)); attempt++) {
      assert.equal(server.exitCode, null, 'redis-server exited: is it built with TLS?');
      await sleep(50);
    }
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGKILL');
      await exited;
    }
    for (const config of configs) config.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(tls: Record<string, unknown>): string {
    const made = tempConfig({ serviceName: 'tls_test', redis: { url, tls } });
    configs.push(made);
    return made.path;
  }

  it('a self-signed certificate: exit 5, "set redis.tls.ca or NODE_EXTRA_CA_CERTS"', async () => {
    const result = await runCli(['fire', 'tls_test.ping', 'n=1', '--redis-url', url]);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+\/0: self-signed certificate.*set redis\.tls\.ca or NODE_EXTRA_CA_CERTS/);
  });

  it('with redis.tls.ca naming the CA, the same command works', async () => {
    const result = await runCli(['fire', 'tls_test.ping', 'n=1', '--json', '--config', config({ ca: cert })]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"stream":"tls_test\.\*:stream"/);
  });

  it('a missing CA file names redis.tls.ca and the config file', async () => {
    const path = config({ ca: join(dir, 'no-such-ca.pem') });
    const result = await runCli(['fire', 'tls_test.ping', 'n=1', '--config', path]);
    assert.equal(result.code, 5, result.stderr);
    const file = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(result.stderr, new RegExp(`${file}: redis\\.tls\\.ca: cannot read .*no-such-ca\\.pem.*no such file`));
  });
});
