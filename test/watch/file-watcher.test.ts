// FileWatcher on a real directory: a burst of saves is one change, a save that changes nothing
// is none, a file replaced by a rename (as editors save) is still watched, other files are not
// reported unless asked for (after a failed load), and what it reports comes in order.
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileWatcher } from '../../src/watch/file-watcher.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function setUp(files: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'lightbus-watch-'));
  dirs.push(dir);
  const paths = files.map((name) => join(dir, name));
  for (const path of paths) await writeFile(path, 'export const v = 0;\n');
  const reports: string[][] = [];
  const errors: Error[] = [];
  const watcher = new FileWatcher({ debounceMs: 150, onChange: (changed) => reports.push(changed.sort()), onError: (_d, e) => errors.push(e) });
  return { dir, paths, reports, errors, watcher };
}

/** Waits for report number `n` (1-based) and returns it. */
async function report(reports: string[][], n: number): Promise<string[]> {
  await waitFor(() => reports.length >= n, `report ${n}`, 10_000);
  return reports[n - 1]!;
}

test('a burst of saves to two files is one report; a save without a change and a touch are none; a rename over the file is seen', async () => {
  const { dir, paths, reports, errors, watcher } = await setUp(['a.ts', 'b.ts', 'other.ts']);
  const [a, b, other] = paths as [string, string, string];
  await watcher.watch([a, b]);
  try {
    for (let i = 1; i <= 10; i++) await writeFile(i % 2 ? a : b, `export const v = ${i};\n`);
    assert.deepEqual(await report(reports, 1), [a, b]);

    // Unchanged content, a touch, and a file not watched: nothing to report. The next edit is
    // then the second report; any report of these would have come before it.
    await writeFile(a, 'export const v = 9;\n');
    await utimes(b, new Date(), new Date());
    await writeFile(other, 'export const v = 1;\n');
    const replacement = join(dir, 'a.ts.tmp');
    await writeFile(replacement, 'export const v = "renamed";\n');
    await rename(replacement, a);
    assert.deepEqual(await report(reports, 2), [a]);

    // After a failed load, any source file beside the watched ones counts (not a .tmp).
    await watcher.watch([a, b], { anySource: true });
    await writeFile(join(dir, 'notes.tmp'), 'x');
    await writeFile(other, 'export const v = 2;\n');
    assert.deepEqual(await report(reports, 3), [other]);
    assert.equal(reports.length, 3);
    assert.deepEqual(errors, []);
  } finally {
    watcher.close();
  }
});

test('after close nothing is reported', async () => {
  const { paths, reports, watcher } = await setUp(['a.ts']);
  await watcher.watch(paths);
  await writeFile(paths[0]!, 'export const v = 1;\n');
  watcher.close();
  // A second watcher on the same file reports the next edit; the closed one reported nothing before it.
  const witness = new FileWatcher({ debounceMs: 150, onChange: (changed) => reports.push(['witness', ...changed]), onError: () => undefined });
  await witness.watch(paths);
  try {
    await writeFile(paths[0]!, 'export const v = 2;\n');
    assert.deepEqual(await report(reports, 1), ['witness', paths[0]!]);
  } finally {
    witness.close();
  }
});
