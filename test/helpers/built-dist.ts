/**
 * The child-process tests run the real CLI (`bin/run.js`), which runs `dist/`, not `src/`. A
 * test file run alone after an edit, without `npm run build`, would silently test the old
 * code: every helper that spawns `bin/` calls {@link ensureBuilt} first, which rebuilds
 * `dist/` when a source file is newer than its output (or has none), or when the command
 * manifest the build writes last is missing or older than the commands it lists, and fails if
 * it still is.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestStaleness } from '../../src/cli/stale-manifest.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
/** What oclif.manifest.json describes (src/cli/stale-manifest.ts). */
const MANIFEST_SOURCES = ['dist/commands', 'dist/cli', 'dist/hooks'];
const BUILD_TIMEOUT_MS = 300_000;
/** Checked once per test process: nothing in a test run edits src/. */
let checked = false;

/** Builds `dist/` when it is older than `src/`; throws "run npm run build" when building did not help. */
export function ensureBuilt(): void {
  if (checked) return;
  const stale = staleBuild();
  if (stale !== undefined) {
    // The build of package.json (tsc, then scripts/sync-dist.js, scripts/bundle-vendor.js, scripts/build-manifest.js).
    // Other work in progress may not type-check; tsc still emits, and `npm test` type-checks separately.
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    spawnSync(npm, ['run', '--silent', 'build'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS, stdio: 'ignore' });
    const still = staleBuild();
    if (still !== undefined) throw new Error(`dist/ is out of date (${still}) even after building: run \`npm run build\` to see why`);
  }
  checked = true;
}

function staleBuild(): string | undefined {
  return staleOutput(SRC, DIST) ?? manifestStaleness(ROOT, MANIFEST_SOURCES);
}

/**
 * Why `dist` does not match `src`, or undefined when it does: a source (`.ts`, `.lua`) whose
 * output is missing or older than it, or an output whose source is gone.
 */
export function staleOutput(src: string, dist: string): string | undefined {
  for (const source of filesUnder(src)) {
    const built = builtPath(source);
    if (built === undefined) continue;
    let builtAt: number;
    try {
      builtAt = statSync(join(dist, built)).mtimeMs;
    } catch {
      return `no ${built} for src/${source}`;
    }
    if (statSync(join(src, source)).mtimeMs > builtAt) return `src/${source} is newer than its build`;
  }
  const sources = new Set(filesUnder(src));
  for (const output of filesUnder(dist)) {
    const from = sourceOf(output);
    if (from !== undefined && !from.some((source) => sources.has(source))) return `${output} has no source in src/`;
  }
  return undefined;
}

/** Paths of the files under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** Whether the build copies a source as it is (scripts/sync-dist.js): Lua scripts, and the files of a `public/` folder. */
function isCopied(file: string): boolean {
  return file.endsWith('.lua') || file.split(sep).includes('public');
}

/** What the build writes for a source file under dist/ (tsc compiles `.ts`, the build copies `.lua` and `public/`). */
function builtPath(source: string): string | undefined {
  if (isCopied(source)) return source;
  if (source.endsWith('.d.ts') || !/\.(ts|mts)$/.test(source)) return undefined;
  return source.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs');
}

/** The sources an output of dist/ can come from (undefined: not a build output). */
function sourceOf(output: string): string[] | undefined {
  if (isCopied(output)) return [output];
  const stem = /^(.*)\.(js|d\.ts)(\.map)?$/.exec(output)?.[1];
  return stem === undefined ? undefined : [`${stem}.ts`, `${stem}.mts`];
}
