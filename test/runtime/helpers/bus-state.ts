/**
 * What the tests read from Redis to judge a runner: the pending list of a consumer group, the
 * tallies the fixtures write (`test/fixtures/support/tally.ts`), and the clean-up of every key
 * one test created (never FLUSHDB: the server on 6379 is shared).
 */
import { randomUUID } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379/0';

/** Names no other test (or run) uses, all derived from one random tag. */
export interface TestNames {
  /** The API the fixture defines (env `FIXTURE_API`). */
  api: string;
  /** The runner's service name. */
  service: string;
  /** The test's own bus's service name. */
  caller: string;
  /** The hash the fixture's tallies go to (env `FIXTURE_TALLY`). */
  tally: string;
  /** A dead-letter stream of this test only. */
  deadLetters: string;
}

export function testNames(prefix = 't'): TestNames {
  const tag = `${prefix}_${randomUUID().slice(0, 8)}`;
  return {
    api: `${tag}_api`,
    service: `${tag}_svc`,
    caller: `${tag}_caller`,
    tally: `${tag}:tally`,
    deadLetters: `${tag}:dead_letter:stream`,
  };
}

/** The environment the fixtures read their names from. */
export function fixtureEnv(names: TestNames, redisUrl = REDIS_URL, extra: Record<string, string> = {}): Record<string, string> {
  return { FIXTURE_API: names.api, FIXTURE_TALLY: names.tally, FIXTURE_TALLY_URL: redisUrl, ...extra };
}

/** The stream of an API's events (the default `per_api` layout). */
export function streamOf(api: string): string {
  return `${api}.*:stream`;
}

/** The consumer group of a listener: `{service}-{listener}`. */
export function groupOf(service: string, listener: string): string {
  return `${service}-${listener}`;
}

/** The fixture tallies as numbers. */
export async function readTally(redis: Redis, names: TestNames): Promise<Record<string, number>> {
  const raw = await redis.hgetall(names.tally);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/** The stream ids pending in a group (handed out, not acknowledged); empty when the group does not exist. */
export async function pendingIds(redis: Redis, stream: string, group: string): Promise<string[]> {
  try {
    const rows = (await redis.xpending(stream, group, '-', '+', 10_000)) as Array<[string, string, number, number]>;
    return rows.map((row) => row[0]);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOGROUP')) return [];
    throw error;
  }
}

/** How many entries a group has pending (the summary form of XPENDING). */
export async function pendingCount(redis: Redis | Cluster, stream: string, group: string): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

/** The consumer groups of a stream (empty when the stream does not exist). */
export async function groupsOf(redis: Redis, stream: string): Promise<string[]> {
  try {
    const groups = (await redis.xinfo('GROUPS', stream)) as Array<unknown[]>;
    return groups.map((fields) => String(fields[fields.indexOf('name') + 1]));
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return [];
    throw error;
  }
}

/** Deletes every key a test's names reach: the API's streams and queues, schemas, tallies, results, heartbeats. */
export async function cleanUpNames(names: TestNames, redisUrl = REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  try {
    await redis.connect();
    const keys = new Set<string>([names.tally, names.deadLetters, `schema:${names.api}`]);
    for (const pattern of [`${names.api}*`, `lightbus:results:${names.service}:*`, `lightbus:results:${names.caller}:*`]) {
      for (const key of await scanKeys(redis, pattern)) keys.add(key);
    }
    await redis.del(...keys);
    await redis.srem('schemas', names.api);
    const processes = await redis.hkeys('lightbus:processes');
    const ours = processes.filter((field) => field.startsWith(`${names.service}:`) || field.startsWith(`${names.caller}:`));
    if (ours.length > 0) await redis.hdel('lightbus:processes', ...ours);
  } finally {
    redis.disconnect();
  }
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  // Bounded: a scan of the shared test server ends in a few hundred rounds at most.
  for (let round = 0; round < 10_000; round++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return found;
}
