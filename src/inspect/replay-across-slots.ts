/**
 * Replaying a dead letter on a Redis Cluster, where the dead-letter stream and the stream it
 * goes back to sit in different slots and the one-step scripts (lua/replay-dead-letter*.lua)
 * cannot run. The same guarantees in steps: the group is created first (nothing written if
 * that fails); the letter is deleted before it is appended, and only the one replay whose XDEL
 * deleted it appends it, so two operators replaying one letter cannot both succeed; an append
 * that fails puts the letter back on the dead-letter stream (as a new entry) and rethrows.
 */
import type { RedisConnection } from '../transport/redis/connection.js';

/** Whether `redis` is a Redis Cluster client (with a client per master). */
export function isCluster(redis: RedisConnection): boolean {
  return 'nodes' in redis;
}

/** The new entry's id in `target`, or null when the letter is gone (replayed or deleted meanwhile). */
export async function replayAcrossSlots(
  redis: RedisConnection,
  deadLetterStream: string,
  id: string,
  target: string,
  fields: string[],
  maxLength: string,
  group?: string,
): Promise<string | null> {
  if (group !== undefined) {
    try {
      await redis.xgroup('CREATE', target, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }
  const [entry] = await redis.xrange(deadLetterStream, id, id);
  if (!entry) return null;
  if ((await redis.xdel(deadLetterStream, id)) === 0) return null;
  const trim = maxLength === '' ? [] : ['MAXLEN', '~', maxLength];
  try {
    return (await redis.xadd(target, ...trim, '*', ...fields)) as string;
  } catch (error) {
    await redis.xadd(deadLetterStream, '*', ...entry[1]);
    throw error;
  }
}
