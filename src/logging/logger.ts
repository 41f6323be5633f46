/**
 * One logger per process, made in the main thread and handed to whoever needs it (never a
 * global). JSON lines when stdout is not a terminal; pino-pretty, as a transport in the main
 * thread, when it is. Worker threads do not log to stdout themselves: they send their records
 * to the invoker, which writes them to {@link LogOutput.write} so lines never interleave.
 */
import pino, { type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { sleep } from '../util/timeouts.js';

export type { Logger };

export interface LogOutput {
  logger: Logger;
  /** Writes one already-serialised JSON record (from a worker) to the same output. */
  write(line: string): void;
  /** Flushes buffered lines; call before exit. */
  flush(): Promise<void>;
}

export interface LogOptions {
  level?: LevelWithSilent;
  /** Pretty output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  /** Fields on every record (service, process). */
  base?: Record<string, unknown>;
  /** Where JSON lines go instead of stdout (tests). */
  destination?: DestinationStream;
}

export function createLogOutput(options: LogOptions = {}): LogOutput {
  const pretty = options.pretty ?? (process.stdout.isTTY === true && !process.env['LIGHTBUS_LOG_JSON']);
  const destination: DestinationStream & { flushSync?: () => void; end?: () => void } =
    options.destination ??
    (pretty
      ? (pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }) as DestinationStream)
      : pino.destination({ dest: 1, sync: false }));
  const logger = pino(
    { level: options.level ?? 'info', base: options.base ?? {}, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
  return {
    logger,
    write(line: string) {
      destination.write(line.endsWith('\n') ? line : line + '\n');
    },
    async flush() {
      // SonicBoom's flushSync() while an asynchronous write is still in flight (stdout is a
      // full pipe) drops that write's chunk: wait for it to finish first, boundedly.
      const d = destination as { flushSync?: () => void; _writing?: boolean };
      for (let waited = 0; d._writing && waited < FLUSH_WAIT_MS; waited += 5) await sleep(5);
      try {
        d.flushSync?.();
      } catch {
        // A destination that is not ready yet, or already closed, has nothing to flush.
      }
    },
  };
}

const FLUSH_WAIT_MS = 5000;

/** A logger that writes nowhere, for library use without config and for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
