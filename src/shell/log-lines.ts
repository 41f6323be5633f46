/**
 * The shell's log output: a bus warning ("no schema known for billing.invoice") shows as one
 * short line between results, `warn: no schema known…`, not as a JSON record.
 */
import type { DestinationStream } from 'pino';
import { paint } from './format.js';

const LEVELS: Record<number, { name: string; style: 'gray' | 'yellow' | 'red' }> = {
  10: { name: 'trace', style: 'gray' },
  20: { name: 'debug', style: 'gray' },
  30: { name: 'info', style: 'gray' },
  40: { name: 'warn', style: 'yellow' },
  50: { name: 'error', style: 'red' },
  60: { name: 'fatal', style: 'red' },
};

/** A pino destination writing `level: message (error)` lines to `stream`. */
export function shortLogLines(stream: NodeJS.WritableStream, colors: boolean): DestinationStream {
  return {
    write(record: string) {
      let line: string;
      try {
        const parsed = JSON.parse(record) as { level?: number; msg?: string; err?: unknown };
        const level = LEVELS[parsed.level ?? 30] ?? LEVELS[30]!;
        const error = typeof parsed.err === 'string' ? parsed.err : (parsed.err as { message?: string } | undefined)?.message;
        line = `${paint(`${level.name}:`, level.style, colors)} ${parsed.msg ?? ''}${error ? ` (${error})` : ''}`;
      } catch {
        line = record.trimEnd();
      }
      stream.write(`${line}\n`);
    },
  };
}
