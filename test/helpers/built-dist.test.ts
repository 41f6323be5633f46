/** The stale-dist guard of the child-process tests: a source newer than its output or without one, a copied Lua script, an output whose source is gone. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { staleOutput } from './built-dist.js';

const root = mkdtempSync(join(tmpdir(), 'lightbus-built-dist-'));
after(() => rmSync(root, { recursive: true, force: true }));
const src = join(root, 'src');
const dist = join(root, 'dist');

function file(path: string, mtimeS: number): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, '');
  utimesSync(full, mtimeS, mtimeS);
}

test('a source newer than its output, or with none, is stale; declarations and non-TS files are not', () => {
  file('src/runtime/pool.ts', 1000);
  file('dist/runtime/pool.js', 2000);
  file('dist/runtime/pool.d.ts', 2000);
  file('src/types.d.ts', 3000);
  file('src/runtime/tsx-preload.mjs', 3000);
  assert.equal(staleOutput(src, dist), undefined, 'built after its source');

  file('src/runtime/pool.ts', 3000);
  assert.equal(staleOutput(src, dist), 'src/runtime/pool.ts is newer than its build', 'edited after the build');

  file('dist/runtime/pool.js', 4000);
  file('src/cli/new-command.ts', 1000);
  assert.equal(staleOutput(src, dist), 'no cli/new-command.js for src/cli/new-command.ts', 'never built');
  file('dist/cli/new-command.js', 4000);
  assert.equal(staleOutput(src, dist), undefined);
});

test('a Lua script is stale when its copy is older or missing, and an output whose source was deleted is stale', () => {
  file('src/transport/lua/ack.lua', 5000);
  assert.equal(staleOutput(src, dist), 'no transport/lua/ack.lua for src/transport/lua/ack.lua');
  file('dist/transport/lua/ack.lua', 4000);
  assert.equal(staleOutput(src, dist), 'src/transport/lua/ack.lua is newer than its build');
  file('dist/transport/lua/ack.lua', 6000);
  assert.equal(staleOutput(src, dist), undefined);

  file('dist/runtime/removed.js', 6000);
  assert.equal(staleOutput(src, dist), 'runtime/removed.js has no source in src/');
  rmSync(join(dist, 'runtime/removed.js'));
  file('dist/transport/lua/gone.lua', 6000);
  assert.equal(staleOutput(src, dist), 'transport/lua/gone.lua has no source in src/');
});
