/**
 * A blocking pop that takes a whole burst: `BLMPOP ... LEFT COUNT n` (Redis 7) answers with
 * everything a push left in the list, where `BLPOP` answers with one element and leaves the rest
 * for another round trip. Delivered together, the burst's results (or calls) are handled in one
 * turn and what they cause (the caller's next calls, the results) leaves in one write too; one
 * at a time, the first of every burst travelled alone and woke every process on its way alone.
 *
 * A server that refuses BLMPOP (Redis 6.2 has none; an ACL written before lightbus used it
 * lacks `+blmpop`) gets BLPOP instead, for the rest of this pop's life, with one info line.
 */
import type { Logger } from 'pino';
import type { RedisConnection } from './connection.js';

/** What one pop took: the list it came from and its elements, oldest first. */
export type Popped = [key: string, elements: string[]];

/** Whether `error` is Redis refusing the BLMPOP command itself (not its keys, not the connection). */
export function refusesBlmpop(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /blmpop/i.test(message) && /unknown command|NOPERM/i.test(message);
}

export class BlockingPop {
  private many = true;

  constructor(private readonly logger: Logger) {}

  /** Whether a pop takes a burst (BLMPOP); false once the server refused it, when each pop takes one element. */
  get popsMany(): boolean {
    return this.many;
  }

  /** The command a pop sends, for the logs of stalled reads. */
  get command(): 'BLMPOP' | 'BLPOP' {
    return this.many ? 'BLMPOP' : 'BLPOP';
  }

  /**
   * Waits up to `timeoutSeconds` for an element in the first non-empty list of `keys`, and takes
   * up to `count` from it. The command is sent before this returns: inside `inOneWrite`, it
   * leaves in the same write as what was sent before it. Null when nothing came.
   */
  pop(connection: RedisConnection, keys: string[], count: number, timeoutSeconds: number): Promise<Popped | null> {
    if (!this.many) return this.popOne(connection, keys, timeoutSeconds);
    return (connection.blmpop(timeoutSeconds, keys.length, ...keys, 'LEFT', 'COUNT', Math.max(1, count)) as Promise<Popped | null>).catch((error: unknown) => {
      if (!refusesBlmpop(error)) throw error;
      if (this.many) {
        this.many = false;
        this.logger.info(
          { err: (error as Error).message },
          'this Redis refuses BLMPOP (Redis before 7, or an ACL without +blmpop): popping one element per BLPOP instead, which costs a round trip more per burst. Grant +blmpop (docs/configuration.md, "Redis ACL") or run Redis 7',
        );
      }
      return this.popOne(connection, keys, timeoutSeconds);
    });
  }

  private async popOne(connection: RedisConnection, keys: string[], timeoutSeconds: number): Promise<Popped | null> {
    const popped = await connection.blpop(...keys, timeoutSeconds);
    return popped ? [popped[0], [popped[1]]] : null;
  }
}
