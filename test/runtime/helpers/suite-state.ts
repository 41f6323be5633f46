/**
 * What a runner test file shares: a plain Redis client, the names its tests used and the buses
 * they opened. Buses and runners are closed after each test; names are cleaned up at the end.
 */
import { after, afterEach } from 'node:test';
import { Redis } from 'ioredis';
import type { Bus } from '../../../src/index.js';
import { REDIS_URL, cleanUpNames, type TestNames } from './bus-state.js';
import { cleanUpRunners } from './runner-process.js';

export function runnerSuiteState(): { redis: Redis; used: TestNames[]; buses: Bus[] } {
  const redis = new Redis(REDIS_URL);
  const used: TestNames[] = [];
  const buses: Bus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await cleanUpRunners();
  });
  after(async () => {
    for (const names of used) await cleanUpNames(names);
    redis.disconnect();
  });
  return { redis, used, buses };
}
