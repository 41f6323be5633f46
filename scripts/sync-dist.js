#!/usr/bin/env node
// Brings dist/ in line with src/ after tsc, which only ever adds: it copies every .lua file
// under src/ to the same place under dist/ (the Redis transport reads its scripts from beside
// its own module, src/transport/redis/scripts.ts, in a checkout and in the installed package
// alike) and every file of a `public/` folder (the dashboard's page, src/dashboard/public/,
// served from beside its server, no build step), and deletes what tsc once wrote for a source that is gone (a .lua, .js, .d.ts or
// map), so a build never ships, and a test never loads, a stale module.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Paths of the files under `dir`, relative to it. */
function filesUnder(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

/** Whether a file of src/ is copied to dist/ as it is: a Lua script, or a file a browser loads. */
function isCopied(file) {
  return file.endsWith('.lua') || file.split(sep).includes('public');
}

/** The sources a file of dist/ may have been built or copied from (none: not a build output). */
function sourcesOf(file) {
  if (isCopied(file)) return [file];
  const stem = file.match(/^(.*)\.(js|d\.ts)(\.map)?$/)?.[1];
  if (stem !== undefined) return [`${stem}.ts`, `${stem}.mts`];
  const mjs = file.match(/^(.*)\.(mjs|d\.mts)(\.map)?$/)?.[1];
  return mjs === undefined ? [] : [`${mjs}.mts`];
}

for (const file of filesUnder(dist)) {
  const sources = sourcesOf(file);
  if (sources.length > 0 && !sources.some((source) => existsSync(join(src, source)))) rmSync(join(dist, file));
}
for (const file of filesUnder(src).filter(isCopied)) {
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  cpSync(join(src, file), join(dist, file));
}
