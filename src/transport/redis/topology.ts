/**
 * Which ioredis client a config asks for: one server (`redis.url`), a Redis Cluster
 * (`redis.cluster`, ioredis `Cluster`) or a master found through Sentinel (`redis.sentinel`).
 * TLS (`rediss://` and `redis.tls`) and ACL credentials reach every node of each. Nothing here
 * runs per message: the transports ask {@link isClusterConfig} once, when they are built.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from '../../vendor/ioredis.js';
import type { ResolvedConfig } from '../../config/schema.js';
import { tlsFileProblems } from '../../config/tls-files.js';
import { ConfigError } from '../../errors.js';
import { backoffDelayMs } from '../../util/backoff.js';

type RedisConfig = ResolvedConfig['redis'];

/** Whether the bus talks to a Redis Cluster, where every multi-key command must stay in one slot. */
export function isClusterConfig(redis: RedisConfig): boolean {
  return redis.cluster !== undefined;
}

/** Options for ioredis's own TLS, from `redis.tls` (files read now, checked first). */
function tlsOptions(redis: RedisConfig): RedisOptions['tls'] {
  const tls = redis.tls ?? {};
  const problem = tlsFileProblems(tls, process.cwd())[0];
  if (problem) throw new ConfigError(problem.text, undefined, problem.keyPath);
  return {
    ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
    ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}

/** A node URL's parts as ioredis takes them; an empty user or password is left out. */
function nodeOf(url: string): { host: string; port: number; username?: string; password?: string; tls: boolean; db: number } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
    db: /^\/\d+$/.test(parsed.pathname) ? Number(parsed.pathname.slice(1)) : 0,
  };
}

/**
 * The options of a plain connection to one sentinel of `redis.sentinel`: its URL's host and
 * scheme, and its credentials, or else the first sentinel's (which ioredis uses for all).
 */
export function sentinelNodeOptions(redis: RedisConfig, url: string): RedisOptions {
  const node = nodeOf(url);
  const first = nodeOf(redis.sentinel?.sentinels[0] ?? url);
  const username = node.username ?? (node.password ? undefined : first.username);
  const password = node.password ?? first.password;
  return {
    host: node.host,
    port: node.port,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(node.tls ? { tls: tlsOptions(redis) } : {}),
  };
}

/**
 * A client for `redis` with `base` (naming, retries, queueing) on every connection it makes.
 * `replicaReads` clients (inspect, the dashboard) send read-only commands to replicas when the
 * cluster's `scaleReads` says so (ioredis routes each command by its flags; writes go to
 * masters). The bus never does: a lagging replica could answer that a stream or group is not
 * there yet, and its hot reads also write (LPOP, XREADGROUP).
 */
export function createClient(redis: RedisConfig, base: RedisOptions, replicaReads = false): Redis | Cluster {
  if (redis.cluster) {
    const first = nodeOf(redis.cluster.nodes[0]!);
    const redisOptions: RedisOptions = {
      ...base,
      ...(first.username ? { username: first.username } : {}),
      ...(first.password ? { password: first.password } : {}),
      ...(first.tls || redis.tls ? { tls: tlsOptions(redis) } : {}),
    };
    const options: ClusterOptions = {
      redisOptions,
      // As a single connection does: wait for the cluster to come back, with capped backoff.
      clusterRetryStrategy: (attempt) => backoffDelayMs(attempt - 1),
      enableOfflineQueue: true,
      // CLUSTER INFO before every ready: a least-privilege ACL may not grant it, as INFO on one server.
      enableReadyCheck: false,
      // A failover moves slots for seconds; commands in flight then retry rather than fail.
      maxRedirections: 64,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      scaleReads: replicaReads && redis.cluster.scaleReads === 'replica' ? 'slave' : 'master',
      ...(redis.cluster.natMap ? { natMap: redis.cluster.natMap } : {}),
    };
    return new Cluster(
      redis.cluster.nodes.map((url) => ({ host: nodeOf(url).host, port: nodeOf(url).port })),
      options,
    );
  }
  const main = nodeOf(redis.url);
  // As before clusters: a rediss:// URL alone gets ioredis's default TLS; redis.tls adds to it.
  const tls = redis.tls ? { tls: tlsOptions(redis) } : {};
  if (redis.sentinel) {
    const sentinels = redis.sentinel.sentinels.map(nodeOf);
    const first = sentinels[0]!;
    return new Redis({
      ...base,
      sentinels: sentinels.map(({ host, port }) => ({ host, port })),
      name: redis.sentinel.name,
      ...(main.username ? { username: main.username } : {}),
      ...(main.password ? { password: main.password } : {}),
      db: main.db,
      ...(main.tls ? { tls: tlsOptions(redis), enableTLSForSentinelMode: true } : tls),
      ...(first.username ? { sentinelUsername: first.username } : {}),
      ...(first.password ? { sentinelPassword: first.password } : {}),
      ...(first.tls ? { sentinelTLS: tlsOptions(redis) as object } : {}),
      // After a failover the sentinels name the new master; reconnect there, not to the old one.
      // (A switchover's old master stays up: sentinel-watch.ts moves the connections off it.)
      sentinelRetryStrategy: (attempt) => backoffDelayMs(attempt - 1),
    });
  }
  return new Redis(redis.url, { ...base, ...tls });
}
