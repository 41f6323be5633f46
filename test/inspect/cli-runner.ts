/**
 * Running the real CLI (`node bin/run.js`, which runs `dist/`) in a child process, as a user
 * would. `dist/` is rebuilt first when any source file is newer than its build output, so a
 * single test file run after an edit does not test stale code.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 300_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Builds `dist/` when a file under `src/` is newer than its output (or has none). */
export function ensureBuilt(): void {
  if (!isStale(join(ROOT, 'src'))) return;
  // Other work in progress may not type-check; tsc still emits, and `npm test` type-checks separately.
  spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS, stdio: 'ignore' });
  if (isStale(join(ROOT, 'src', 'commands'))) throw new Error('dist/ is still older than src/ after building: run npm run build to see why');
}

function isStale(dir: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (isStale(path)) return true;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const built = join(ROOT, 'dist', relative(join(ROOT, 'src'), path)).replace(/\.ts$/, '.js');
      let builtAt: number;
      try {
        builtAt = statSync(built).mtimeMs;
      } catch {
        return true;
      }
      if (statSync(path).mtimeMs > builtAt) return true;
    }
  }
  return false;
}

/** The environment of a child CLI: ours without LIGHTBUS_* settings, which would override the test's config. */
function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LIGHTBUS_')));
  return { ...env, NO_COLOR: '1' };
}

/** Starts the CLI; the caller reads its output and ends it. */
export function spawnCli(args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: ROOT, env: childEnv() });
}

/** Runs the CLI to completion (killed after a minute, so a hang fails the test instead of stalling it). */
export function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON objects of a `--json` output, one per line. */
export function jsonLines(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/** A config file in a fresh temporary directory; `remove()` deletes the directory. */
export function tempConfig(config: Record<string, unknown>): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-cli-'));
  const path = join(dir, 'lightbus.config.json');
  writeFileSync(path, JSON.stringify(config));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
