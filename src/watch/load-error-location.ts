/**
 * Where a module that failed to load went wrong, as `file:line:column`: the compiler's parse
 * error names it in its message (`ParseError: Unexpected token \n /app/bus.ts:3:18`), an error
 * thrown at import in the first frame of its stack that is the user's. The file may be one the
 * given module imports, which the module's path alone would not say.
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

const LOCATION = /((?:[A-Za-z]:)?[\\/][^\s():'"]+):(\d+)(?::(\d+))?/g;
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Frames of lightbus itself (a check it made of what the module did) are not where the user went wrong. */
const ownDirs = [`${packageRoot}src${sep}`, `${packageRoot}dist${sep}`];

export function loadErrorLocation(error: Error): SourceLocation | undefined {
  const cause = error.cause instanceof Error ? error.cause : error;
  for (const text of [cause.message, cause.stack ?? '']) {
    for (const match of text.matchAll(LOCATION)) {
      const [, file, line, column] = match;
      if (file!.includes(`${sep}node_modules${sep}`) || ownDirs.some((dir) => file!.startsWith(dir))) continue;
      return { file: file!, line: Number(line), ...(column ? { column: Number(column) } : {}) };
    }
  }
  return undefined;
}

export function formatLocation({ file, line, column }: SourceLocation): string {
  return `${file}:${line}${column !== undefined ? `:${column}` : ''}`;
}
