// What `npm pack` puts in the package, and loading it the ways the README and `engines` promise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureBuilt, ROOT } from '../inspect/cli-runner.js';

test('npm pack ships the CLI, the build, the docs and the licence, not bin/dev.js, src or tests', () => {
  // What prepack does, without its second full build of an up-to-date dist/ (the slowest
  // step of the suite): ensureBuilt leaves dist/ and oclif.manifest.json as a build would.
  ensureBuilt();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const packed = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.equal(packed.status, 0, packed.stderr);
  const [{ files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ files: Array<{ path: string }> }];
  const paths = new Set(files.map((f) => f.path));
  for (const present of ['bin/run.js', 'dist/index.js', 'dist/commands/run.js', 'LICENSE', 'README.md', 'oclif.manifest.json', 'docs/configuration.md', 'docs/architecture.md']) {
    assert.ok(paths.has(present), `${present} is in the package`);
  }
  for (const absent of ['bin/dev.js', 'tsconfig.json', 'scripts/build-manifest.js']) assert.ok(!paths.has(absent), `${absent} is not in the package`);
  // tsc copies no .lua: the build does, and the Redis transport reads them from beside its module.
  const scripts = readdirSync(join(ROOT, 'src/transport/redis/lua')).filter((file) => file.endsWith('.lua'));
  assert.ok(scripts.length > 0);
  for (const script of scripts) assert.ok(paths.has(`dist/transport/redis/lua/${script}`), `the Lua script ${script} is in the package`);
  for (const path of paths) assert.ok(!/^(src|test|bench)\//.test(path), `${path} is not in the package`);
  // Every docs/ link of the README leads to a file in the package.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const [, link] of readme.matchAll(/\]\((docs\/[^)#]+)/g)) assert.ok(paths.has(link!), `${link} (linked from the README) is in the package`);
});

test('package.json: the licence text, a prepack build, engines with require(esm)', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;
  assert.equal(pkg['license'], 'Apache-2.0');
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
  assert.equal(pkg['scripts']['prepare'], undefined, 'no build on every npm install of a git checkout');
  assert.match(pkg['scripts']['prepack'], /npm run build/);
  assert.equal(pkg['engines']['node'], '^20.19.0 || >=22.12.0');
});

test('require("lightbus") from CommonJS works on this Node without flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-cjs-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'lightbus'), 'dir');
    const script = "const { createBus, defineApi } = require('lightbus'); console.log(typeof createBus, typeof defineApi);";
    const result = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'function function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the build bundles what src/vendor re-exports: loading dist/index.js reads no module of TypeBox, Ajv, cron-parser or the OpenTelemetry API', () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-vendor-'));
  try {
    // A load hook that lists every module the ES loader reads (CommonJS ones required inside a bundle never reach it).
    writeFileSync(join(dir, 'hooks.mjs'), "export async function load(url, context, next) { process.stdout.write(url + '\\n'); return next(url, context); }\n");
    writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);\n");
    const script = `const { Type } = await import(${JSON.stringify(join(ROOT, 'dist/index.js'))}); if (typeof Type.Object !== 'function') process.exit(3);`;
    const result = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const loaded = result.stdout.split('\n').filter(Boolean);
    assert.ok(loaded.some((url) => url.endsWith('/dist/vendor/typebox.js')), 'the vendored TypeBox is loaded');
    const unbundled = loaded.filter((url) => /\/node_modules\/(@sinclair\/typebox|ajv|ajv-formats|cron-parser|luxon|@opentelemetry\/api)\//.test(url));
    assert.deepEqual(unbundled, [], 'every vendored package is read from its bundle');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
