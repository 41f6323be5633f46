#!/usr/bin/env node
// Replaces each compiled module of dist/vendor/ (a re-export of a third-party package, see
// src/vendor/) with one esbuild bundle of what it exports, after tsc. A worker thread loads
// these packages at its start, and every thread pays again: TypeBox alone ships some 200 ES
// modules. One file each is most of a thread's start-up saved (figures: docs/benchmark.md,
// "Worker start"). The .d.ts files tsc wrote stay, so the types are the packages' own.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const vendor = fileURLToPath(new URL('../dist/vendor/', import.meta.url));

for (const name of readdirSync(vendor).filter((file) => file.endsWith('.js'))) {
  const file = join(vendor, name);
  buildSync({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // CommonJS code bundled into an ES module still calls require() for Node's own modules.
    banner: { js: "import { createRequire as __lightbusCreateRequire } from 'node:module'; const require = __lightbusCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  // tsc's source map describes the re-export, not the bundle.
  rmSync(`${file}.map`, { force: true });
}
