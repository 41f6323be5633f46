/** Temporary project directories for config tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `src/config/schema.ts`, for config files that call `defineConfig`. */
export const SCHEMA_MODULE = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/config/schema.js');

export interface TempProject {
  dir: string;
  /** Writes a file (creating directories) relative to the project and returns its path. */
  write(relativePath: string, contents: string): string;
  remove(): void;
}

export function tempProject(files: Record<string, string> = {}): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-config-'));
  const project: TempProject = {
    dir,
    write(relativePath, contents) {
      const path = join(dir, relativePath);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, contents);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [path, contents] of Object.entries(files)) project.write(path, contents);
  return project;
}
