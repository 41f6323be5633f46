/** Temporary project directories for config tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

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

/** A `project(files)` whose directories are all removed when the test file ends. */
export function tempProjects(): (files?: Record<string, string>) => TempProject {
  const projects: TempProject[] = [];
  after(() => projects.forEach((p) => p.remove()));
  return (files = {}) => {
    const p = tempProject(files);
    projects.push(p);
    return p;
  };
}
