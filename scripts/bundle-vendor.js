#!/usr/bin/env node
// Replaces each compiled module of dist/vendor/ (a re-export of a third-party package, see
// src/vendor/) with one esbuild bundle of what it exports, after tsc. A worker thread loads
// these packages at its start, and every thread pays again: TypeBox alone ships some 200 ES
// modules. One file each is most of a thread's start-up saved (figures: docs/benchmark.md,
// "Worker start"). The .d.ts files tsc wrote stay, so the types are the packages' own.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const vendor = fileURLToPath(new URL('../dist/vendor/', import.meta.url));

/**
 * ioredis parses every reply into Buffers (one object per bulk string), then copies each into a
 * string, as lightbus uses no `...Buffer` command. Its parser (redis-parser) can make the strings
 * itself, decoding UTF-8 the same way and across socket chunks with a StringDecoder: that halves
 * what the main thread allocates per event read (figures: docs/benchmark.md, "Issue 11's
 * targets"). Each command then still walked its whole reply looking for Buffers to convert
 * (3 % of the main thread's busy time reading events): that walk goes too. The one
 * consequence: the bundled client's `...Buffer` commands and events answer strings. The build
 * fails if a line is no longer there exactly once (an ioredis upgrade): look again then.
 */
const repliesAsStrings = [
  { file: /ioredis[\\/]built[\\/]DataHandler\.js$/, from: 'returnBuffers: true', to: 'returnBuffers: false' },
  {
    file: /ioredis[\\/]built[\\/]Command\.js$/,
    from: 'result = (0, utils_1.convertBufferToString)(result, this.replyEncoding);',
    to: '/* the parser answers strings: nothing to convert */',
  },
];

/** The patches applied: one whose file was never bundled (renamed in an upgrade) fails the build too. */
const applied = new Set();

const patchIoredis = {
  name: 'ioredis-replies-as-strings',
  setup(plugin) {
    for (const { file, from, to } of repliesAsStrings) {
      plugin.onLoad({ filter: file }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const found = source.split(from).length - 1;
        if (found !== 1) throw new Error(`${args.path}: expected "${from}" once, found it ${found} times`);
        applied.add(from);
        return { contents: source.replace(from, to), loader: 'js' };
      });
    }
  },
};

for (const name of readdirSync(vendor).filter((file) => file.endsWith('.js'))) {
  const file = join(vendor, name);
  await build({
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
    plugins: [patchIoredis],
  });
  // tsc's source map describes the re-export, not the bundle.
  rmSync(`${file}.map`, { force: true });
}
const missed = repliesAsStrings.filter(({ from }) => !applied.has(from));
if (missed.length > 0) throw new Error(`no bundled file matched the ioredis patch for ${missed.map(({ from }) => `"${from}"`).join(', ')}: look at scripts/bundle-vendor.js again`);
