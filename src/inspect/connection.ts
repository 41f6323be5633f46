/**
 * Connecting for a one-shot command. Bus connections wait for Redis forever (losing Redis
 * delays work, it does not drop it), which is right for a server and wrong for an operator
 * at a prompt: here the first connection error, or no answer in time, is a clear failure.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { redactUrl } from '../core/redact-url.js';
import { closeConnection, createConnection, describeConnectionError, type RedisConnection } from '../transport/redis/connection.js';
import { withTimeout } from '../util/timeouts.js';

/** Redis did not answer: refused, unknown host, wrong password, or silence past the timeout. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/** How long a command waits for Redis to answer its first PING. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * Opens a connection (from the transports' factory, so TLS and naming are the bus's own) and
 * resolves once Redis answers PING.
 *
 * @throws RedisUnreachableError naming the URL (without its password) and the cause.
 */
export async function connectOrFail(
  redis: ResolvedConfig['redis'],
  logger: Logger,
  role: string,
  timeoutMs = CONNECT_TIMEOUT_MS,
  replicaReads = false,
): Promise<RedisConnection> {
  const connection = createConnection({ redis, logger, role, replicaReads });
  let onError: ((error: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (error: Error) => reject(error);
    connection.once('error', onError);
  });
  try {
    await withTimeout(Promise.race([connection.ping(), failed]), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    return connection;
  } catch (error) {
    await closeConnection(connection, true);
    throw new RedisUnreachableError(`cannot reach Redis at ${redactUrl(redis.url)}: ${describe(error)}`);
  } finally {
    if (onError) connection.off('error', onError);
    failed.catch(() => undefined);
  }
}

/** Checks that Redis answers, then closes the connection (for commands whose bus connects on its own). */
export async function checkReachable(redis: ResolvedConfig['redis'], logger: Logger, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const connection = await connectOrFail(redis, logger, 'cli-probe', timeoutMs);
  await closeConnection(connection, false);
}


function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return (error.message && describeConnectionError(error)) || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}
