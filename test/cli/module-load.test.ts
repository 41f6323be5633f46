// `lightbus run` stops the start when a module cannot be loaded: exit code 1, with the
// module's path and the error in the output.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanUpNames, testNames } from '../runtime/helpers/bus-state.js';
import { cleanUpRunners, fixturePath, repoRoot, startRunner, tempDir } from '../runtime/helpers/runner-process.js';

const names = testNames('load');

after(async () => {
  await cleanUpRunners();
  await cleanUpNames(names);
});

/** A directory for modules written at test time, ESM like a project with `"type": "module"`. */
async function moduleDir(): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  return dir;
}

async function runUntilExit(module: string) {
  const runner = await startRunner({ modules: [module], serviceName: names.service, workers: 1 });
  const exit = await runner.exit(30_000);
  return { exit, output: runner.stdout + runner.stderr, runner };
}

test('a module that throws at import stops the start: exit 1, its path and the error', async () => {
  const module = fixturePath('fails-at-import.ts');
  const { exit, output, runner } = await runUntilExit(module);
  assert.deepEqual(exit, { code: 1, signal: null }, runner.tail());
  assert.ok(output.includes(module), `the output names ${module}:\n${output}`);
  assert.match(output, /FIXTURE_SECRET is not set: cannot start/);
  assert.ok(!runner.records.some((r) => r.msg === 'lightbus is running'));
});

test('a module with a syntax error stops the start: exit 1, its path and the error', async () => {
  // Written at test time: a syntax error in test/ would break the type check of the project.
  const module = join(await moduleDir(), 'syntax-error.ts');
  await writeFile(module, `import { createBus } from '${join(repoRoot, 'src', 'index.js')}';\nconst bus = createBus(;\n`);
  const { exit, output, runner } = await runUntilExit(module);
  assert.deepEqual(exit, { code: 1, signal: null }, runner.tail());
  assert.ok(output.includes(module), `the output names ${module}:\n${output}`);
  assert.match(output, /syntax|unexpected|expected/i);
});

test('a module importing an export that does not exist stops the start: exit 1, its path and the missing name', async () => {
  const module = join(await moduleDir(), 'missing-export.ts');
  await writeFile(module, `import { createBuss } from '${join(repoRoot, 'src', 'index.js')}';\ncreateBuss();\n`);
  const { exit, output, runner } = await runUntilExit(module);
  assert.deepEqual(exit, { code: 1, signal: null }, runner.tail());
  assert.ok(output.includes(module), `the output names ${module}:\n${output}`);
  assert.match(output, /createBuss/);
});

test('a module file that does not exist stops the start: exit 4 and its path', async () => {
  const module = join(await tempDir(), 'no-such-module.ts');
  const { exit, output, runner } = await runUntilExit(module);
  assert.deepEqual(exit, { code: 4, signal: null }, runner.tail());
  assert.ok(output.includes(module), `the output names ${module}:\n${output}`);
});
