import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deleteApiKeys } from '../helpers/redis-keys.js';
import { uniqueName } from '../helpers/wait.js';

const fixture = fileURLToPath(new URL('./fixtures/use-and-close.ts', import.meta.url));

for (const transport of ['redis', 'memory']) {
  test(`closing a bus (${transport}) leaves no open handles: the process ends by itself`, async () => {
    const apiName = uniqueName('close');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, API_NAME: apiName, TRANSPORT: transport },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    assert.equal(signal, null, 'the process had to be killed: something kept it alive after close()');
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { left: [] });
    if (transport === 'redis') await deleteApiKeys([apiName]);
  });
}
