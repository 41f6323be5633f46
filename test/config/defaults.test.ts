import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { defaultServiceName, sanitizeName } from '../../src/config/defaults.js';
import { tempProjects } from './helpers.js';

const project = tempProjects();

describe('default service name', () => {
  test('comes from package.json, without the scope, and is the same on every load', async () => {
    const p = project({ 'package.json': JSON.stringify({ name: '@acme/billing' }) });
    const first = await loadConfig({ cwd: p.dir, env: {} });
    const second = await loadConfig({ cwd: p.dir, env: {} });
    assert.equal(first.serviceName, 'billing');
    assert.equal(second.serviceName, first.serviceName);
  });

  test('the nearest package.json with a name, from a subdirectory', () => {
    const p = project({
      'package.json': JSON.stringify({ name: 'outer' }),
      'packages/inner/package.json': JSON.stringify({ name: 'inner-svc' }),
      'packages/inner/src/.keep': '',
      'packages/nameless/package.json': JSON.stringify({ type: 'module' }),
    });
    assert.equal(defaultServiceName(join(p.dir, 'packages/inner/src')), 'inner-svc');
    assert.equal(defaultServiceName(join(p.dir, 'packages/nameless')), 'outer');
  });

  test('falls back to the directory name, sanitised', (t) => {
    const p = project({ 'my service!/.keep': '' });
    const dir = join(p.dir, 'my service!');
    if (defaultServiceName(p.dir) !== sanitizeName(basename(p.dir))) {
      t.skip('a directory above the temporary directory has a named package.json');
      return;
    }
    assert.equal(defaultServiceName(dir), 'my_service_');
  });

  test('names are sanitised to letters, digits, _ . -', () => {
    const p = project({ 'package.json': JSON.stringify({ name: 'weird name/with:chars' }) });
    assert.equal(defaultServiceName(p.dir), 'weird_name_with_chars');
    assert.equal(sanitizeName('a.b-c_d'), 'a.b-c_d');
  });

  test('a broken package.json is skipped, not fatal', () => {
    const p = project({ 'package.json': '{ broken', 'sub/package.json': JSON.stringify({ name: 'fine' }) });
    assert.equal(defaultServiceName(join(p.dir, 'sub')), 'fine');
    assert.doesNotThrow(() => defaultServiceName(p.dir));
  });
});
