/**
 * Deletes what one run left in Redis, and only that: every key whose name contains the run id
 * (queues, streams with their groups, result lists, schemas, floors), the run's members of the
 * shared `schemas` set and `lightbus:processes` hash, and the run's entries in the shared
 * dead-letter stream, if any. Never FLUSHDB.
 */
import type { Redis } from 'ioredis';

const SCHEMA_SET_KEY = 'schemas';
const PROCESSES_KEY = 'lightbus:processes';
const DEAD_LETTER_STREAM = 'lightbus:dead_letter:stream';
const DEAD_LETTERS_LOOKED_AT = 2000;

export async function cleanUpRun(redis: Redis, runId: string): Promise<{ keys: number; other: number }> {
  let keys = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `*${runId}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) keys += await redis.unlink(...found);
  } while (cursor !== '0');

  let other = 0;
  const apis = (await redis.smembers(SCHEMA_SET_KEY)).filter((api) => api.includes(runId));
  if (apis.length > 0) other += await redis.srem(SCHEMA_SET_KEY, ...apis);
  const processes = (await redis.hkeys(PROCESSES_KEY)).filter((field) => field.includes(runId));
  if (processes.length > 0) other += await redis.hdel(PROCESSES_KEY, ...processes);
  const letters = await redis.xrevrange(DEAD_LETTER_STREAM, '+', '-', 'COUNT', DEAD_LETTERS_LOOKED_AT);
  const ours = letters.filter(([, fields]) => fields.some((field) => field.includes(runId))).map(([id]) => id);
  if (ours.length > 0) other += await redis.xdel(DEAD_LETTER_STREAM, ...ours);
  return { keys, other };
}
