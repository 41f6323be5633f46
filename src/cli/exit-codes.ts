/**
 * The exit codes of every lightbus command: one table, so a script gets the same code for the
 * same situation whichever command it ran. Each command lists the codes it can return
 * ({@link exitCodesHelp}), and its `--help` shows only those.
 */
import { ConfigError, DeadlineExceededError, ModuleLoadError, FireTimeoutError, NoServerError, RemoteError, RpcTimeoutError, UnknownApiError, UnknownMemberError, ValidationError, WorkerCrashedError } from '../errors.js';
import { RedisUnreachableError } from '../inspect/connection.js';
import { UsageError } from './params.js';

export const ExitCode = {
  ok: 0,
  /** The work itself failed: a remote handler, a module that would not load, a failed shell line. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** No result (or no acknowledgement from Redis) in time. */
  timeout: 3,
  /** Not found or not matching its schema: no such API (or nobody serving it), member, schema or module; invalid parameters. */
  notFound: 4,
  /** Redis cannot be reached, the config is invalid, or anything else. */
  unavailable: 5,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/** What each code means, as `--help` states it; a command may say more about its own reasons. */
const MEANING: Record<ExitCodeName, string> = {
  ok: 'success',
  failed: 'the work failed',
  usage: 'usage error: wrong arguments or flags',
  timeout: 'timeout: no result in time',
  notFound: 'not found or invalid: no such API (or no process serving it), RPC, event, schema or module, or parameters that do not match the schema',
  unavailable: 'cannot reach Redis, invalid config, or any other failure',
};

/**
 * The "Exit codes:" paragraph of a command's help, from the codes it can return; `reasons`
 * replaces the general meaning of a code with what it means for that command.
 */
export function exitCodesHelp(codes: readonly ExitCodeName[], reasons: Partial<Record<ExitCodeName, string>> = {}): string {
  const sorted = [...codes].sort((a, b) => ExitCode[a] - ExitCode[b]);
  return ['Exit codes:', ...sorted.map((name) => `  ${ExitCode[name]}  ${reasons[name] ?? MEANING[name]}`)].join('\n');
}

const REMOTE_VALIDATION_ERRORS = new Set(['ValidationError', 'UnknownMemberError', 'UnknownApiError']);

/** The exit code for an error thrown by any command. */
export function exitCodeFor(error: unknown): number {
  const oclifExit = (error as { oclif?: { exit?: unknown } } | null)?.oclif?.exit;
  if (typeof oclifExit === 'number') return oclifExit;
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof ConfigError || error instanceof RedisUnreachableError) return ExitCode.unavailable;
  // The server rejected the call as not matching its own definition: a validation failure, not the handler's.
  if (error instanceof RemoteError && REMOTE_VALIDATION_ERRORS.has(error.remoteName)) return ExitCode.notFound;
  if (error instanceof ModuleLoadError) return ExitCode.failed;
  if (error instanceof RemoteError || error instanceof WorkerCrashedError || error instanceof DeadlineExceededError) return ExitCode.failed;
  if (error instanceof RpcTimeoutError || error instanceof FireTimeoutError) return ExitCode.timeout;
  if (error instanceof ValidationError || error instanceof UnknownMemberError || error instanceof UnknownApiError || error instanceof NoServerError) return ExitCode.notFound;
  return ExitCode.unavailable;
}
