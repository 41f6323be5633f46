/**
 * The RPC and event conformance suites on one Redis server with the hash-tagged key names
 * (redis.keys 'hash-tagged'): the names change, nothing else does.
 */
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { deleteApiKeys } from '../helpers/redis-keys.js';
import { registerConformance } from './redis-topologies.js';

const redis = { url: 'redis://127.0.0.1:6379/0', keys: 'hash-tagged' as const };
const raw = new Redis(redis.url);
after(() => raw.disconnect());

registerConformance('redis, hash-tagged keys', redis, raw, (apis) => deleteApiKeys(apis, redis.url));
