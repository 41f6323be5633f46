/**
 * `lightbus run --watch`: reloads the running modules when a file they loaded changes. The
 * runner does the reload (runtime/reloading-pool.ts: new threads load the new code while the
 * old ones serve, then take over); this decides when, one reload at a time, and says what came
 * of it. After a reload, the files the new code loads are the ones watched. A reload that fails
 * (a syntax error, an error thrown at import) is reported with its file and line, the old code
 * keeps serving, and the next save of a source file next to the loaded ones tries again.
 */
import type { Logger } from 'pino';
import type { ReloadOutcome } from '../runtime/runner.js';
import { FileWatcher } from './file-watcher.js';
import { formatLocation, loadErrorLocation } from './load-error-location.js';
import { describeChanges } from '../runtime/registration-changes.js';

/** What a burst of saves must be quiet for before it reloads. */
export const WATCH_DEBOUNCE_MS = 200;

/** The runner as watch mode sees it. */
export interface Reloadable {
  readonly loadedFiles: string[];
  readonly stopRequested: boolean;
  reload(): Promise<ReloadOutcome>;
}

export class WatchMode {
  private readonly watcher: FileWatcher;
  private reloading: Promise<void> | undefined;
  /** Files changed while a reload ran: they reload again once it ends. */
  private pending: string[] = [];
  private reloads = 0;

  constructor(
    private readonly runner: Reloadable,
    private readonly logger: Logger,
    debounceMs = WATCH_DEBOUNCE_MS,
  ) {
    this.watcher = new FileWatcher({
      debounceMs,
      onChange: (files) => this.changed(files),
      onError: (directory, error) => logger.warn({ directory, err: error }, `cannot watch ${directory} any more: changes there do not reload`),
    });
  }

  async start(): Promise<void> {
    const files = this.runner.loadedFiles;
    await this.watcher.watch(files);
    this.logger.info({ files: files.length }, `watching ${files.length} file${files.length === 1 ? '' : 's'} the modules loaded; a change reloads them`);
  }

  /** Stops watching; resolves once a reload under way has ended. */
  async close(): Promise<void> {
    this.watcher.close();
    this.pending = [];
    await this.reloading;
  }

  private changed(files: string[]): void {
    if (this.runner.stopRequested) return;
    this.pending.push(...files);
    this.reloading ??= this.reloadWhilePending().finally(() => (this.reloading = undefined));
  }

  private async reloadWhilePending(): Promise<void> {
    while (this.pending.length > 0 && !this.runner.stopRequested) {
      const files = [...new Set(this.pending)];
      this.pending = [];
      const reload = ++this.reloads;
      this.logger.info({ files, reload }, `changed: ${files.join(', ')}; reloading`);
      try {
        const outcome = await this.runner.reload();
        // A stop during the reload ends the threads it was starting: nothing to report.
        if (this.runner.stopRequested) return;
        if (outcome.ok) {
          const changes = describeChanges(outcome.changes);
          this.logger.info({ reload, reloadMs: outcome.reloadMs, changes }, `reloaded${changes.length > 0 ? `: ${changes.join(' ')}` : ''}`);
          await this.watcher.watch(this.runner.loadedFiles);
        } else {
          const location = loadErrorLocation(outcome.error);
          const where = location ? formatLocation(location) : outcome.error.modulePath;
          const message = outcome.error.message.replace(/\s+/g, ' ');
          this.logger.error(
            { reload, module: outcome.error.modulePath, ...(location ? { file: location.file, line: location.line, column: location.column } : {}) },
            `could not reload (${where}): ${message}; the old code keeps serving until the file is fixed`,
          );
          // The fix may be in a file nothing loaded yet (imported before it was written).
          await this.watcher.watch([...this.runner.loadedFiles, ...(location ? [location.file] : [])], { anySource: true });
        }
      } catch (error) {
        // Stopping while the new code loaded ends the reload: no failure of the code.
        if (this.runner.stopRequested) return;
        this.logger.error({ reload, err: error }, 'reload failed; the old code keeps serving');
      }
    }
  }
}
