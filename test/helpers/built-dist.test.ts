/** The stale-dist guard of the child-process tests: a source newer than its output or without one, a copied Lua script, an output whose source is gone, a stale command manifest. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { manifestStaleness, removeStaleManifest } from '../../src/cli/stale-manifest.js';
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

test('the command manifest is stale when missing, or older than package.json or a command or CLI module', () => {
  const dirs = ['dist/commands', 'dist/cli', 'dist/hooks'];
  file('package.json', 7000);
  file('dist/commands/run.js', 7000);
  file('dist/cli/base-command.js', 7000);
  assert.equal(manifestStaleness(root, dirs), 'no oclif.manifest.json');
  assert.equal(removeStaleManifest(root, dirs), undefined, 'nothing to remove');
  file('oclif.manifest.json', 7000);
  assert.equal(manifestStaleness(root, dirs), undefined, 'as old as what it lists (npm gives a package one time)');
  file('dist/cli/base-command.js', 8000);
  assert.equal(manifestStaleness(root, dirs), 'dist/cli/base-command.js is newer than oclif.manifest.json', 'a base flag changed');
  file('oclif.manifest.json', 8000);
  file('dist/commands/inspect/new.js', 9000);
  assert.equal(removeStaleManifest(root, dirs), 'dist/commands/inspect/new.js is newer than oclif.manifest.json', 'a new command');
  assert.equal(existsSync(join(root, 'oclif.manifest.json')), false);
  file('oclif.manifest.json', 9000);
  file('package.json', 9500);
  assert.equal(manifestStaleness(root, dirs), 'package.json is newer than oclif.manifest.json');
});
