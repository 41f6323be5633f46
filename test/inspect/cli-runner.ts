/**
 * Running the real CLI (`node bin/run.js`, which runs `dist/`) in a child process, as a user
 * would. `dist/` is rebuilt first when a source file is newer than its output
 * ({@link ensureBuilt}), so a single test file run after an edit does not test stale code.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureBuilt } from '../helpers/built-dist.js';

export { ensureBuilt };

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_TIMEOUT_MS = 60_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child CLI: ours without LIGHTBUS_* settings, which would override the test's config. */
function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LIGHTBUS_')));
  return { ...env, NO_COLOR: '1' };
}

/** Starts the CLI; the caller reads its output and ends it. */
export function spawnCli(args: readonly string[]): ChildProcessWithoutNullStreams {
  ensureBuilt();
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
