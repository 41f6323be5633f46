// The oclif conventions: version, -v, suggestions for a typo, shell completion, --json on data,
// and the command manifest the build writes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, test } from 'node:test';
import { ensureBuilt, ROOT, runCli } from '../inspect/cli-runner.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const versionLine = new RegExp(`^lightbus/${version.replace(/\./g, '\\.')} \\S+ node-v\\d+`);

before(() => ensureBuilt());

test('lightbus version, -v and --version print the same line', async () => {
  const [command, short, long, json] = await Promise.all([runCli(['version']), runCli(['-v']), runCli(['--version']), runCli(['version', '--json'])]);
  for (const result of [command, short, long]) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, versionLine);
  }
  assert.equal(command.stdout, long.stdout);
  assert.equal(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { version: string }).version, version);
});

test('a mistyped command names the closest one and exits 2 at once, without a prompt', async () => {
  // runCli's stdin is a pipe: a prompt would wait for it, and the run would be killed after a minute.
  const result = await runCli(['inspekt']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /command inspekt not found\. Did you mean "lightbus inspect"\?/);
});

test('lightbus autocomplete --help explains shell completion', async () => {
  const result = await runCli(['autocomplete', '--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\$ lightbus autocomplete \[SHELL\]/);
});

test('dumpconfigschema --json prints the schema as JSON', async () => {
  const result = await runCli(['dumpconfigschema', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const schema = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
});

test('the build writes oclif.manifest.json last, listing every command', () => {
  // ensureBuilt (before) rebuilt it if it was missing or older than dist/commands.
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(packageJson.scripts['build']!, /&& node scripts\/build-manifest\.js$/);
  assert.match(packageJson.scripts['prepack']!, /npm run build/);
  assert.equal(packageJson.scripts['postpack'], undefined, 'the manifest stays: the binaries drop it once it is stale');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { version: string; commands: Record<string, unknown> };
  assert.equal(manifest.version, version);
  assert.deepEqual(Object.keys(manifest.commands).sort(), commandIds().sort());
});

test('a manifest older than the build is dropped, so it cannot hide a command', () => {
  // A copy of the checkout's CLI (bin/run.js finds its root from its own path) whose manifest
  // lacks `version` and predates dist/commands, as after a `tsc` without the manifest step.
  const copy = mkdtempSync(join(tmpdir(), 'lightbus-stale-manifest-'));
  try {
    for (const path of ['bin/run.js', 'dist', 'package.json']) cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    mkdirSync(join(copy, 'src'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
    delete manifest.commands['version'];
    const manifestPath = join(copy, 'oclif.manifest.json');
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const before = statSync(join(copy, 'dist/commands/version.js')).mtimeMs / 1000 - 60;
    utimesSync(manifestPath, before, before);
    const help = spawnSync(process.execPath, [join(copy, 'bin/run.js'), '--help'], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^\s+version\s/m, 'the command missing from the stale manifest is listed');
    assert.equal(existsSync(manifestPath), false, 'the stale manifest is gone');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

/** The ids oclif gives the files of dist/commands: `inspect/dead-letters/index.js` is `inspect:dead-letters`. */
function commandIds(): string[] {
  const base = join(ROOT, 'dist', 'commands');
  const ids: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) ids.push(relative(base, path).replace(/\.js$/, '').replace(/\/index$/, '').split('/').join(':'));
    }
  };
  walk(base);
  return ids;
}
