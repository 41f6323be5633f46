#!/usr/bin/env node
// Copies every .lua file under src/ to the same place under dist/, after tsc (which copies only
// what it compiles): the Redis transport reads its scripts from beside its own module
// (src/transport/redis/scripts.ts), in a checkout and in the installed package alike. A .lua
// file no longer in src/ is removed from dist/, so a build never ships a stale script.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Paths of the .lua files under `dir`, relative to it. */
function luaFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile() && e.name.endsWith('.lua')).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

const wanted = new Set(luaFiles(src));
for (const file of luaFiles(dist)) if (!wanted.has(file)) rmSync(join(dist, file));
for (const file of wanted) {
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  cpSync(join(src, file), join(dist, file));
}
