// A module that `lightbus run` was not given, yet both defines APIs and registers handlers,
// was imported, most likely for its definitions: service B's bus.ts importing `auth` from
// service A's bus.ts makes B's process serve A's API and run A's listeners. `run` says so
// once, with what to do; the layout of the README (definitions in api.ts) gets no warning.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cleanUpNames, testNames } from './helpers/bus-state.js';
import { cleanUpRunners, repoRoot, startRunner, tempDir, type LogRecord } from './helpers/runner-process.js';

const names = testNames('imported');
let project: string;

before(async () => {
  project = await tempDir();
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'two-services', type: 'module' }));
  await mkdir(join(project, 'node_modules'));
  await symlink(repoRoot, join(project, 'node_modules', 'lightbus'), 'dir');
  await mkdir(join(project, 'a'));
  await mkdir(join(project, 'b'));
  const api = `defineApi(${JSON.stringify(names.api)}, { rpcs: { ping: rpc({}, Type.Boolean()) }, events: { pinged: event({}) } })`;
  // Service A, the old way: its bus.ts defines and serves.
  await writeFile(
    join(project, 'a', 'bus.ts'),
    `import { createBus, defineApi, event, rpc, Type } from 'lightbus';
export const auth = ${api};
const bus = createBus();
bus.serve(auth, { ping: () => true });
bus.listen(auth.events.pinged, { name: 'a_welcome' }, () => undefined);
`,
  );
  // Service A, the README's way: definitions alone in api.ts.
  await writeFile(join(project, 'a', 'api.ts'), `import { defineApi, event, rpc, Type } from 'lightbus';\nexport const auth = ${api};\n`);
  const serviceB = (from: string) => `import { createBus } from 'lightbus';
import { auth } from '${from}';
createBus().listen(auth.events.pinged, { name: 'b_audit' }, () => undefined);
`;
  await writeFile(join(project, 'b', 'bus.ts'), serviceB('../a/bus.js'));
  await writeFile(join(project, 'b', 'tidy.ts'), serviceB('../a/api.js'));
});

after(async () => {
  await cleanUpRunners();
  await cleanUpNames(names);
});

const isImportWarning = (record: LogRecord) => record.level === 40 && typeof record['module'] === 'string' && /not a module given to lightbus run/.test(record.msg);

async function warningsOf(modules: string[]): Promise<LogRecord[]> {
  const runner = await startRunner({ modules: modules.map((m) => join(project, m)), serviceName: names.service, workers: 2 });
  await runner.ready();
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  return runner.records.filter(isImportWarning);
}

test("a module imported for its definitions that also serves and listens: one warning naming it, its importer and the fix", async () => {
  const warnings = await warningsOf(['b/bus.ts']);
  assert.equal(warnings.length, 1, `one warning, not one per worker: ${JSON.stringify(warnings)}`);
  const [warning] = warnings as [LogRecord];
  assert.equal(warning['module'], join(project, 'a', 'bus.ts'));
  assert.equal(warning['importedBy'], join(project, 'b', 'bus.ts'));
  assert.deepEqual(warning['apis'], [names.api]);
  assert.deepEqual(warning['registrations'], [`serves ${names.api}`, 'listens as a_welcome']);
  assert.match(warning.msg, new RegExp(`service "${names.service}"`));
  assert.match(warning.msg, /move the definitions to their own module \(e\.g\. api\.ts\)/);
});

test('definitions in their own module, or every serving module given to run: no warning', async () => {
  assert.deepEqual(await warningsOf(['b/tidy.ts']), []);
  assert.deepEqual(await warningsOf(['b/bus.ts', 'a/bus.ts']), []);
  assert.deepEqual(await warningsOf(['a/bus.ts']), []);
});
