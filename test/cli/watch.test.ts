// `lightbus run --watch` in a child process, on modules written to a temporary directory and
// edited while it runs: the new code answers without a restart (same process, one start), a call
// in flight during the reload answers from the old code, a file that fails to load is reported
// with its file and line while the old code keeps answering, and what the new code serves,
// listens to and publishes changes with it.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBus } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { fixtureEnv, groupOf, pendingIds, readTally, streamOf, testNames, type TestNames } from '../runtime/helpers/bus-state.js';
import { repoRoot, startRunner, tempDir, type LogRecord, type RunnerProcess } from '../runtime/helpers/runner-process.js';
import { runnerSuiteState } from '../runtime/helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();

const lightbus = join(repoRoot, 'src', 'index.js');
const tallies = join(repoRoot, 'test', 'fixtures', 'support', 'tally.js');

/** A service whose `version` answers what `reply.ts` exports; `slow` answers it once the test sets `release`. */
function busModule(extra = { rpcs: '', handlers: '', more: '' }): string {
  return `import { createBus, defineApi, event, rpc, Type } from '${lightbus}';
import { read, tally } from '${tallies}';
import { reply } from './reply.js';

export const api = defineApi(process.env['FIXTURE_API']!, {
  rpcs: { version: rpc({}, Type.String()), slow: rpc({}, Type.String())${extra.rpcs} },
  events: { ping: event({ id: Type.String() }) },
});
const bus = createBus();
bus.serve(api, {
  version: () => reply,
  async slow() {
    await tally('slow-started');
    for (let i = 0; i < 1500 && (await read('release')) === null; i++) await new Promise((r) => setTimeout(r, 20));
    return reply;
  },${extra.handlers}
});
${extra.more}
`;
}

async function project(): Promise<{ dir: string; bus: string; reply: string }> {
  const dir = await tempDir();
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const files = { dir, bus: join(dir, 'bus.ts'), reply: join(dir, 'reply.ts') };
  await writeFile(files.reply, `export const reply = 'v1';\n`);
  await writeFile(files.bus, busModule());
  return files;
}

async function watching(names: TestNames, bus: string): Promise<RunnerProcess> {
  const runner = await startRunner({ modules: [bus], serviceName: names.service, workers: 1, args: ['--watch'], env: fixtureEnv(names) });
  await runner.ready();
  await runner.waitForLog((r) => /^watching \d+ files/.test(r.msg), 10_000, 'watch mode to watch the loaded files');
  return runner;
}

/** XINFO's flat [key, value, key, value...] as pairs. */
function chunk(flat: unknown[]): Array<[string, unknown]> {
  return Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]);
}

const isReloaded = (r: LogRecord) => r.msg.startsWith('reloaded');
const reloads = (runner: RunnerProcess, count: number) => runner.waitForLogs(isReloaded, count, 30_000, `reload number ${count}`);

test('an edit of an imported file is served without a restart; a call in flight answers from the old code; a syntax error is reported and the old code keeps answering until the fix', async () => {
  const names = testNames('watch');
  used.push(names);
  const files = await project();
  const runner = await watching(names, files.bus);
  const caller = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(caller);
  const version = () => caller.call(`${names.api}.version`, {}, { timeoutMs: 10_000 });
  assert.equal(await version(), 'v1');

  const inFlight = caller.call(`${names.api}.slow`, {}, { timeoutMs: 60_000 });
  await waitFor(async () => (await readTally(redis, names))['slow-started'] === 1, 'the slow call to run in the old code', 10_000);
  await writeFile(files.reply, `export const reply = 'v2';\n`);
  await reloads(runner, 1);
  assert.equal(await version(), 'v2', 'the new code answers');
  await redis.hset(names.tally, 'release', '1');
  assert.equal(await inFlight, 'v1', 'the call in flight during the reload was answered, by the code it started in');

  await writeFile(files.reply, `export const reply = ('v3';\n`);
  const failed = await runner.waitForLog((r) => r.msg.startsWith('could not reload'), 30_000, 'the failed reload to be reported');
  assert.equal(failed['file'], files.reply, JSON.stringify(failed));
  assert.equal(failed['line'], 1);
  assert.ok(failed.msg.includes(`${files.reply}:1:`), failed.msg);
  assert.equal(failed.level, 50);
  assert.equal(await version(), 'v2', 'the old code keeps answering');

  await writeFile(files.reply, `export const reply = 'v3';\n`);
  await reloads(runner, 2);
  assert.equal(await version(), 'v3', 'the fixed code answers');

  assert.ok(runner.alive, 'the same process serves');
  assert.equal(runner.records.filter((r) => r.msg === 'lightbus is running').length, 1, 'it started once');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('what the new code serves and listens to changes with it: a changed schema is republished, an added API and listener run, dropped ones stop', async () => {
  const names = testNames('watchreg');
  used.push(names);
  const other = `${names.api}_b`;
  used.push({ ...names, api: other });
  const files = await project();
  const runner = await watching(names, files.bus);
  const caller = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(caller);

  await writeFile(
    files.bus,
    busModule({
      rpcs: ', added: rpc({}, Type.String())',
      handlers: "\n  added: () => 'added',",
      more: `const other = defineApi('${other}', { rpcs: { ping: rpc({}, Type.String()) } });
bus.serve(other, { ping: () => 'pong' });
bus.listen(api.events.ping, { name: 'ears' }, async (event) => { await tally('heard:' + event.params.id); });`,
    }),
  );
  const [first] = await reloads(runner, 1);
  assert.deepEqual(new Set(first!['changes'] as string[]), new Set([`~api:${names.api}`, `+api:${other}`, '+listener:ears']));
  assert.match((await redis.get(`schema:${names.api}`)) ?? '', /"added"/, 'the changed schema is republished');
  assert.equal(await caller.call(`${names.api}.added`, {}, { timeoutMs: 10_000 }), 'added');
  assert.equal(await caller.call(`${other}.ping`, {}, { timeoutMs: 10_000 }), 'pong');
  await caller.fire(`${names.api}.ping`, { id: 'a' });
  await waitFor(async () => (await readTally(redis, names))['heard:a'] === 1, 'the added listener to hear the event', 15_000);

  // A listener of its own hears what the dropped one would have.
  await writeFile(files.bus, busModule({ rpcs: '', handlers: '', more: "bus.listen(api.events.ping, { name: 'witness' }, async (event) => { await tally('witness:' + event.params.id); });" }));
  const second = (await reloads(runner, 2))[1]!;
  assert.deepEqual(new Set(second['changes'] as string[]), new Set([`~api:${names.api}`, `-api:${other}`, '-listener:ears', '+listener:witness']));
  await waitFor(async () => {
    const beat = await redis.hget('lightbus:processes', `${names.service}:${String(runner.records[0]!['process'])}`);
    const info = beat ? (JSON.parse(beat) as { apis: string[]; listeners: string[] }) : undefined;
    return info && !info.apis.includes(other) && !info.listeners.includes('ears') && info.apis.includes(names.api);
  }, 'the heartbeat to list the API kept and not the dropped API and listener', 10_000);
  assert.equal(await caller.call(`${names.api}.version`, {}, { timeoutMs: 10_000 }), 'v1');
  const { streamId } = await caller.fire(`${names.api}.ping`, { id: 'b' });
  await waitFor(async () => (await readTally(redis, names))['witness:b'] === 1, 'the added listener to hear the event', 15_000);
  assert.equal((await readTally(redis, names))['heard:b'], undefined, 'the dropped listener hears nothing');
  const groups = (await redis.xinfo('GROUPS', streamOf(names.api))) as unknown[][];
  const ears = groups.map((g) => Object.fromEntries(chunk(g))).find((g) => g['name'] === groupOf(names.service, 'ears'))!;
  assert.notEqual(ears['last-delivered-id'], streamId, 'the dropped listener read nothing more');
  await assert.rejects(caller.call(`${other}.ping`, {}, { timeoutMs: 1500 }), 'the dropped API is not served');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('an event batch in flight during a reload is finished by the old code and acknowledged once; the next event runs the new code', async () => {
  const names = testNames('watchev');
  used.push(names);
  const files = await project();
  const listener = `bus.listen(api.events.ping, { name: 'ears' }, async (event) => {
  await tally('started:' + event.params.id);
  for (let i = 0; i < 1500 && (await read('release')) === null; i++) await new Promise((r) => setTimeout(r, 20));
  await tally(reply + ':' + event.params.id);
});`;
  await writeFile(files.bus, busModule({ rpcs: '', handlers: '', more: listener }));
  const runner = await watching(names, files.bus);
  const caller = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(caller);

  await caller.fire(`${names.api}.ping`, { id: 'e1' });
  await waitFor(async () => (await readTally(redis, names))['started:e1'] === 1, 'the event to run in the old code', 15_000);
  await writeFile(files.reply, `export const reply = 'v2';\n`);
  await reloads(runner, 1);
  await redis.hset(names.tally, 'release', '1');
  const group = groupOf(names.service, 'ears');
  await waitFor(async () => (await readTally(redis, names))['v1:e1'] === 1, 'the old code to finish the event', 15_000);
  await waitFor(async () => (await pendingIds(redis, streamOf(names.api), group)).length === 0, 'the event to be acknowledged', 15_000);

  await caller.fire(`${names.api}.ping`, { id: 'e2' });
  await waitFor(async () => (await readTally(redis, names))['v2:e2'] === 1, 'the new code to handle the next event', 15_000);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
  const tallies = await readTally(redis, names);
  assert.equal(tallies['started:e1'], 1, 'the event in flight ran once: not redelivered to the new code');
  assert.equal(tallies['v2:e1'], undefined);
});

test('--watch with --inline is refused with exit 2 and why', async () => {
  const names = testNames('watchinline');
  const files = await project();
  const runner = await startRunner({ modules: [files.bus], serviceName: names.service, args: ['--watch', '--inline'] });
  assert.deepEqual(await runner.exit(20_000), { code: 2, signal: null }, runner.tail());
  assert.match(runner.stderr, /--watch cannot be used with --inline: a reload loads the new code in fresh worker threads/);
  assert.equal(await readFile(files.bus, 'utf8'), busModule(), 'nothing was touched');
});
