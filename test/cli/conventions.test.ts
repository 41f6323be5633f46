// The oclif conventions: version, -v, suggestions for a typo, shell completion, --json on data,
// and a command manifest built when packing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

test('the pack step writes oclif.manifest.json listing every command, and removes it after', () => {
  const script = join(ROOT, 'scripts', 'build-manifest.js');
  const manifestPath = join(ROOT, 'oclif.manifest.json');
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(packageJson.scripts['prepack']!, /scripts\/build-manifest\.js/);
  assert.match(packageJson.scripts['postpack']!, /scripts\/build-manifest\.js --remove/);
  try {
    const built = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, built.stderr);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string; commands: Record<string, unknown> };
    assert.equal(manifest.version, version);
    assert.deepEqual(Object.keys(manifest.commands).sort(), commandIds().sort());
  } finally {
    spawnSync(process.execPath, [script, '--remove'], { cwd: ROOT, timeout: 60_000 });
  }
  assert.equal(existsSync(manifestPath), false);
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
