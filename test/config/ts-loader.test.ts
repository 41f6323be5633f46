/**
 * The test runner preloads tsx, which would hide a `.ts` config loader that only works with
 * tsx preloaded. Here the config code is bundled to plain JavaScript and run in a child
 * `node` without tsx, as the built CLI runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { tempProject, type TempProject } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

let bundleDir: string;
let bundle: string;
const projects: TempProject[] = [];

before(async () => {
  // Inside the repository (git-ignored name) so the bundle's imports of cosmiconfig, tsx and
  // ajv resolve from node_modules.
  bundleDir = mkdtempSync(join(repoRoot, '.lightbus-test-config-'));
  bundle = join(bundleDir, 'config.mjs');
  await build({
    entryPoints: [join(repoRoot, 'src/config/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: bundle,
    logLevel: 'silent',
  });
});

after(() => {
  rmSync(bundleDir, { recursive: true, force: true });
  projects.forEach((p) => p.remove());
});

/** Loads the config found from `cwd` in a fresh node process without tsx; returns its JSON. */
async function loadInChild(cwd: string): Promise<Record<string, unknown>> {
  const script = [
    `const { loadConfig } = await import(${JSON.stringify(bundle)});`,
    `const config = await loadConfig({ cwd: ${JSON.stringify(cwd)}, env: {} });`,
    `let tsAfter = 'hooks removed';`,
    `try { await import(${JSON.stringify(join(cwd, 'helper.ts'))} + '?after'); tsAfter = 'hooks left behind'; } catch {}`,
    `process.stdout.write(JSON.stringify({ config, tsAfter }));`,
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd, env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('.ts config without tsx preloaded', () => {
  test('in a CommonJS package, importing a local helper without extension', async () => {
    const p = tempProject({
      'package.json': JSON.stringify({ name: 'cjs-project' }),
      'helper.ts': 'export const rpcTimeoutMs: number = 4321;\n',
      'lightbus.config.ts': `import { rpcTimeoutMs } from './helper';\nexport default { serviceName: 'child', apis: { default: { rpcTimeoutMs } } };\n`,
    });
    projects.push(p);
    const { config, tsAfter } = (await loadInChild(p.dir)) as { config: { serviceName: string; apis: Record<string, { rpcTimeoutMs: number }> }; tsAfter: string };
    assert.equal(config.serviceName, 'child');
    assert.equal(config.apis['default']?.rpcTimeoutMs, 4321);
    assert.equal(tsAfter, 'hooks removed');
  });

  test('in an ESM package, importing a local helper with a .js suffix', async () => {
    const p = tempProject({
      'package.json': JSON.stringify({ name: 'esm-project', type: 'module' }),
      'helper.ts': 'export const batchSize: number = 17;\n',
      'lightbus.config.ts': `import { batchSize } from './helper.js';\nexport default { events: { batchSize } };\n`,
    });
    projects.push(p);
    const { config } = (await loadInChild(p.dir)) as { config: { serviceName: string; events: { batchSize: number } } };
    assert.equal(config.events.batchSize, 17);
    assert.equal(config.serviceName, 'esm-project');
  });
});
