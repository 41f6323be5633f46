/**
 * oclif.manifest.json is a cache: every command's flags, args and help, which oclif reads
 * instead of importing every command (and ioredis, pino, cosmiconfig, jiti... with them) on
 * each start. `npm run build` writes it last (scripts/build-manifest.js). oclif trusts it
 * whenever it is there, so in a checkout, after a `tsc` alone or an edit run through
 * `bin/dev.js`, it would hide a new command or flag: the binaries call
 * {@link removeStaleManifest} first, and the child-process tests' build check
 * (test/helpers/built-dist.ts) calls {@link manifestStaleness}.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const MANIFEST = 'oclif.manifest.json';

/**
 * Why `root`'s manifest is out of date (missing, or older than `package.json` or a `.js`/`.ts`
 * file under one of `dirs`, relative to `root`), or undefined when it is not.
 */
export function manifestStaleness(root: string, dirs: readonly string[]): string | undefined {
  let builtAt: number;
  try {
    builtAt = statSync(join(root, MANIFEST)).mtimeMs;
  } catch {
    return `no ${MANIFEST}`;
  }
  // Strictly newer: npm gives every file of an installed package the same time.
  const newer = (path: string) => statSync(path).mtimeMs > builtAt;
  if (newer(join(root, 'package.json'))) return `package.json is newer than ${MANIFEST}`;
  for (const dir of dirs) {
    let entries;
    try {
      entries = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
    } catch {
      continue; // a folder a build may not have (hooks/)
    }
    for (const entry of entries) {
      if (!entry.isFile() || !/\.(js|ts)$/.test(entry.name)) continue;
      const path = join(entry.parentPath, entry.name);
      if (newer(path)) return `${relative(root, path)} is newer than ${MANIFEST}`;
    }
  }
  return undefined;
}

/**
 * Deletes `root`'s manifest when one is there and out of date (see {@link manifestStaleness}),
 * so that oclif reads the commands themselves until the next build. Returns why it did.
 */
export function removeStaleManifest(root: string, dirs: readonly string[]): string | undefined {
  const why = manifestStaleness(root, dirs);
  if (why === undefined || why === `no ${MANIFEST}`) return undefined;
  rmSync(join(root, MANIFEST), { force: true });
  return why;
}
