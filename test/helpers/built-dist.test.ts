/** The stale-dist guard of the child-process tests finds a source newer than its build output. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { staleSource } from './built-dist.js';

const root = mkdtempSync(join(tmpdir(), 'lightbus-built-dist-'));
after(() => rmSync(root, { recursive: true, force: true }));

function file(path: string, mtimeS: number): string {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, '');
  utimesSync(full, mtimeS, mtimeS);
  return full;
}

test('a source newer than its output, or with none, is stale; declarations and non-TS files are not', () => {
  const src = join(root, 'src');
  const dist = join(root, 'dist');
  file('src/runtime/pool.ts', 1000);
  file('dist/runtime/pool.js', 2000);
  file('src/types.d.ts', 3000);
  file('src/runtime/tsx-preload.mjs', 3000);
  assert.equal(staleSource(src, dist), undefined, 'built after its source');

  const edited = file('src/runtime/pool.ts', 3000);
  assert.equal(staleSource(src, dist), edited, 'edited after the build');

  file('dist/runtime/pool.js', 4000);
  const added = file('src/cli/new-command.ts', 1000);
  assert.equal(staleSource(src, dist), added, 'never built');
});
