/**
 * The import rules of src/ (`.dependency-cruiser.cjs`, run by `npm run lint:deps`): they say
 * what docs/architecture.md says, and they catch a cycle between folders even when no single
 * file is in a cycle.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const config = require('../../.dependency-cruiser.cjs') as { LAYERS: string[][]; forbidden: IForbiddenRuleType[] };

/** The rows of the layer table of docs/architecture.md: the names in each cell, without backticks, `src/` or a trailing `/`. */
function documentedLayers(): Array<{ members: string[]; mayImport: string }> {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Layers'));
  assert.ok(section, 'docs/architecture.md has a "Layers" section');
  const rows = section.split('\n').filter((line) => /^\| `/.test(line));
  return rows.map((row) => {
    const [folders, mayImport] = row.split('|').slice(1, 3).map((cell) => cell.trim());
    const members = [...folders!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/^src\//, '').replace(/\/$/, ''));
    return { members, mayImport: mayImport! };
  });
}

test('the layer table of docs/architecture.md lists the layers the checker enforces, in its order', () => {
  const rows = documentedLayers();
  assert.deepEqual(
    rows.map((row) => row.members),
    config.LAYERS,
  );
  // Each row's "may import" names the row below it, so the two columns cannot drift apart.
  rows.forEach((row, i) => {
    const below = config.LAYERS[i + 1];
    if (below) assert.match(row.mayImport, new RegExp(`^\`${below[0]!.replace(/\./g, '\\.')}/?\``), `the row of ${row.members.join(', ')}`);
    else assert.match(row.mayImport, /^nothing/);
  });
});

/**
 * Cruises a throwaway tree of modules (path to source) with the project's rules and returns the
 * violations. The modules are JavaScript: they resolve without a tsconfig, and the rules match
 * paths, not languages.
 */
async function violations(files: Record<string, string>): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'lightbus-layers-'));
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    const result = await cruise(['src'], {
      baseDir: root,
      validate: true,
      ruleSet: { forbidden: config.forbidden },
      tsPreCompilationDeps: true,
      includeOnly: '^src/',
    });
    const output = result.output as ICruiseResult;
    return output.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} -> ${violation.to}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a cycle between two folders fails the check though no file is in a cycle', async () => {
  const found = await violations({
    'src/client/bus.js': "import { registry } from '../runtime/registry.js';\nexport const bus = registry;\n",
    'src/runtime/registry.js': 'export const registry = 1;\n',
    'src/runtime/worker.js': "import { options } from '../client/options.js';\nexport const workerOptions = options;\n",
    'src/client/options.js': 'export const options = { n: 1 };\n',
  });
  assert.deepEqual(found, ['layer-runtime: src/runtime/worker.js -> src/client/options.js']);
});

test('neighbours in one row may not import each other; a layer may import any layer below it', async () => {
  const found = await violations({
    'src/shell/session.js': "import { port } from '../inspect/connection.js';\nimport { hide } from '../core/redact-url.js';\nexport const both = [port, hide];\n",
    'src/inspect/connection.js': 'export const port = 6379;\n',
    'src/core/redact-url.js': 'export const hide = 1;\n',
  });
  assert.deepEqual(found, ['layer-shell: src/shell/session.js -> src/inspect/connection.js']);
});

test('a module outside every layer fails the check', async () => {
  const found = await violations({
    'src/gadgets/thing.js': "import { x } from '../util/x.js';\nexport const thing = x;\n",
    'src/util/x.js': 'export const x = 1;\n',
  });
  assert.deepEqual(found, ['in-a-layer: src/gadgets/thing.js -> src/util/x.js']);
});
