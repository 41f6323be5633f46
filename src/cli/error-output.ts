/**
 * The last stop of every error of the CLI, in place of oclif's handler: one line
 * `Error: <message>` on stderr, never re-wrapped. oclif's handler wraps at the terminal's width
 * (80 columns on a pipe) with hard breaks, which cuts words, paths and URLs in two and breaks
 * every `grep` of an error.
 */
import { ExitCode, exitCodeFor } from './exit-codes.js';

interface OclifError {
  code?: string;
  oclif?: { exit?: number };
  suggestions?: string[];
  skipOclifErrorHandling?: boolean;
}

/** Prints the error (unless it is only an exit) and exits with its code. */
export function reportErrorAndExit(error: unknown, write: (text: string) => void = (text) => process.stderr.write(text)): never {
  const details = (error ?? {}) as OclifError & Partial<Error>;
  const isExit = details.code === 'EEXIT' || details.skipOclifErrorHandling === true;
  if (!isExit) {
    const message = details.message || String(error);
    const lines = [`Error: ${message}`];
    if (details.suggestions?.length) lines.push(...details.suggestions.map((s) => `Try this: ${s}`));
    if (process.env['DEBUG'] && details.stack) lines.push(details.stack);
    write(`${lines.join('\n')}\n`);
  }
  process.exit(isExit ? (details.oclif?.exit ?? ExitCode.ok) : exitCodeFor(error));
}
