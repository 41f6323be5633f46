/**
 * Says when files changed: one `fs.watch` per directory that holds a watched file, filtered to
 * those files. A directory, not each file: an editor that saves by writing a new file and
 * renaming it over the old one replaces the file, and a watch on the file itself would lose it.
 * Saves come in bursts (an editor writes, renames and touches; a formatter rewrites several
 * files): changes are reported together once none came for `debounceMs`. A file whose content
 * did not change (a touch, a save without edits) is not reported.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export interface FileWatcherOptions {
  debounceMs: number;
  /** The files that changed in one burst. */
  onChange: (files: string[]) => void;
  /** A directory could not be watched (gone, too many watches): said once, the rest goes on. */
  onError: (directory: string, error: Error) => void;
}

/** What `lightbus run` can load: a change to another file in a watched directory is not code. */
const SOURCE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.json']);

export class FileWatcher {
  private readonly directories = new Map<string, FSWatcher>();
  private files = new Set<string>();
  /** Content digests, to tell an edit from a touch. */
  private readonly digests = new Map<string, string>();
  private changed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private anySource = false;
  private closed = false;

  constructor(private readonly options: FileWatcherOptions) {}

  /**
   * Watches these files (and only these) from now on. With `anySource`, a new or changed source
   * file in their directories counts too: after a failed load, the fix may be a file that
   * nothing loaded yet (a module imported before it was written).
   */
  async watch(files: readonly string[], { anySource = false } = {}): Promise<void> {
    if (this.closed) return;
    this.files = new Set(files);
    this.anySource = anySource;
    await Promise.all(files.filter((file) => !this.digests.has(file)).map(async (file) => this.digests.set(file, await digest(file))));
    const wanted = new Set(files.map((file) => dirname(file)));
    for (const [directory, watcher] of this.directories) {
      if (wanted.has(directory)) continue;
      watcher.close();
      this.directories.delete(directory);
    }
    for (const directory of wanted) if (!this.directories.has(directory)) this.watchDirectory(directory);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.directories.values()) watcher.close();
    this.directories.clear();
  }

  private watchDirectory(directory: string): void {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, name) => {
        if (name !== null) this.noted(join(directory, basename(name.toString())));
      });
      watcher.on('error', (error) => {
        watcher.close();
        this.directories.delete(directory);
        this.options.onError(directory, error);
      });
      this.directories.set(directory, watcher);
    } catch (error) {
      this.options.onError(directory, error as Error);
    }
  }

  private noted(file: string): void {
    if (!this.files.has(file) && !(this.anySource && SOURCE_EXTENSIONS.has(extname(file)))) return;
    this.changed.add(file);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.debounceMs);
  }

  private async flush(): Promise<void> {
    const candidates = [...this.changed];
    this.changed = new Set();
    const edited: string[] = [];
    for (const file of candidates) {
      const now = await digest(file);
      if (now === this.digests.get(file)) continue;
      this.digests.set(file, now);
      edited.push(file);
    }
    if (edited.length > 0 && !this.closed) this.options.onChange(edited);
  }
}

/** A digest of the file's content; a file that is gone (deleted, mid-rename) has its own. */
async function digest(file: string): Promise<string> {
  try {
    return createHash('sha1').update(await readFile(file)).digest('hex');
  } catch {
    return 'absent';
  }
}
