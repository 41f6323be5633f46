// Most TypeScript projects have no "type": "module": their `.ts` modules compile to CommonJS,
// and `lightbus run` must load them all the same.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBus } from '../../src/index.js';
import { cleanUpNames, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, repoRoot, startRunner, tempDir } from './helpers/runner-process.js';

const names = testNames('cjs');
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });

after(async () => {
  await bus.close();
  await cleanUpRunners();
  await cleanUpNames(names);
});

test('a module of a package without "type": "module" is served', async () => {
  const project = await tempDir();
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'commonjs-project' }));
  await mkdir(join(project, 'node_modules'));
  await symlink(repoRoot, join(project, 'node_modules', 'lightbus'), 'dir');
  const module = join(project, 'bus.ts');
  await writeFile(
    module,
    `import { createBus, defineApi, rpc, Type } from 'lightbus';
export const api = defineApi(${JSON.stringify(names.api)}, { rpcs: { ping: rpc({ n: Type.Integer() }, Type.Integer()) } });
createBus().serve(api, { ping: ({ n }) => n + 1 });
`,
  );
  const runner = await startRunner({ modules: [module], serviceName: names.service, workers: 1 });
  await runner.ready();
  assert.equal(await bus.call(`${names.api}.ping`, { n: 41 }, { timeoutMs: 10_000 }), 42);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
