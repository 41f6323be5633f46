/**
 * The child-process tests run the real CLI (`bin/run.js`), which runs `dist/`, not `src/`. A
 * test file run alone after an edit, without `npm run build`, would silently test the old
 * code: every helper that spawns `bin/` calls {@link ensureBuilt} first, which rebuilds
 * `dist/` when a source file is newer than its output (or has none), and fails if it still is.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const BUILD_TIMEOUT_MS = 300_000;
/** Checked once per test process: nothing in a test run edits src/. */
let checked = false;

/** Builds `dist/` when it is older than `src/`; throws "run npm run build" when building did not help. */
export function ensureBuilt(): void {
  if (checked) return;
  const stale = staleSource(SRC, DIST);
  if (stale !== undefined) {
    // Other work in progress may not type-check; tsc still emits, and `npm test` type-checks separately.
    spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS, stdio: 'ignore' });
    const still = staleSource(SRC, DIST);
    if (still !== undefined) throw new Error(`dist/ is older than ${relative(ROOT, still)} even after building: run \`npm run build\` to see why`);
  }
  checked = true;
}

/** The first source file under `src` whose built file under `dist` is missing or older than it. */
export function staleSource(src: string, dist: string, dir = src): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = staleSource(src, dist, path);
      if (found !== undefined) return found;
      continue;
    }
    const built = builtPath(relative(src, path), dist);
    if (built === undefined) continue;
    let builtAt: number;
    try {
      builtAt = statSync(built).mtimeMs;
    } catch {
      return path;
    }
    if (statSync(path).mtimeMs > builtAt) return path;
  }
  return undefined;
}

/** Where tsc writes the output of a source file (`.ts` -> `.js`; other files it does not copy). */
function builtPath(source: string, dist: string): string | undefined {
  if (source.endsWith('.d.ts') || !/\.(ts|mts)$/.test(source)) return undefined;
  return join(dist, source).replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs');
}
