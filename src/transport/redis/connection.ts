/**
 * Redis connections for the transports. Every blocking loop gets a connection of its own (a
 * command queued behind a BLPOP waits for the block to end), and every connection reconnects
 * with capped exponential backoff, logging each loss and each recovery once.
 */
import type { Cluster, Redis, RedisOptions } from '../../vendor/ioredis.js';
import type { Logger } from 'pino';
import { backoffDelayMs } from '../../util/backoff.js';
import type { ResolvedConfig } from '../../config/schema.js';
import { watchSentinels } from './sentinel-watch.js';
import { createClient } from './topology.js';

/** One server's connection, or a Redis Cluster's client (one connection per node it talks to). */
export type RedisConnection = Redis | Cluster;

export interface ConnectionOptions {
  redis: ResolvedConfig['redis'];
  logger: Logger;
  /** What the connection is for, in logs and in `CLIENT LIST` (e.g. `events:send_welcome_email`). */
  role: string;
  /**
   * Its read-only commands may go to a replica when redis.cluster.scaleReads says so (inspect
   * and the dashboard: a view a moment old is fine); its writes still go to masters.
   */
  replicaReads?: boolean;
}

/** Certificate checks that fail because Node does not trust the CA that signed Redis's certificate. */
const UNTRUSTED_CA_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * What to change when a connection error is a TLS one, or undefined. A bare "self-signed
 * certificate" from OpenSSL says what is wrong, not which setting fixes it.
 */
export function tlsFix(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return undefined;
  if (UNTRUSTED_CA_CODES.has(code)) {
    return "Redis's certificate is not signed by a CA this process trusts: set redis.tls.ca or NODE_EXTRA_CA_CERTS to the PEM file of the CA that signed it";
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return "the host in the URL is not a name in Redis's certificate: connect by one of its names, or set redis.tls.servername";
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return "Redis's certificate is outside its validity dates: renew it on the server";
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'the server does not speak TLS on this port: use redis:// or the TLS port';
  return undefined;
}

/** An error's message, followed by the fix when it is a TLS error. */
export function describeConnectionError(error: Error): string {
  const fix = tlsFix(error);
  return fix ? `${error.message}: ${fix}` : error.message;
}

/** What each connection is for (its `role`), for the reports of {@link withReadDeadline}. */
const roles = new WeakMap<RedisConnection, string>();

/** The role a connection was made for (`events:my_service-ears`). */
export function connectionRole(connection: RedisConnection): string {
  return roles.get(connection) ?? 'unknown';
}

/**
 * A failover's traces on a connection still talking to the old master: writes answered
 * READONLY (it is a replica now) and blocked reads ended by UNBLOCKED (it was demoted while
 * they waited). Either way the master is elsewhere: reconnect (through the sentinels, or the
 * same name a DNS failover moved) and send the command again there, rather than fail it and
 * have every loop retry against the replica.
 */
function isStaleMaster(error: Error): boolean {
  return error.message.startsWith('READONLY') || error.message.startsWith('UNBLOCKED');
}

/** Connections of this process restored after a loss, every role counted (for metrics). */
let restoredConnections = 0;

/** How often, since the process started, a Redis connection of it was restored after a loss. */
export function redisReconnects(): number {
  return restoredConnections;
}

/** How long after a stale-master reply the next one still counts as the same episode. */
const STALE_EPISODE_MS = 10_000;

export function createConnection({ redis, logger, role, replicaReads }: ConnectionOptions): RedisConnection {
  // Stale-master replies in a row: each one's reconnect waits longer, so an address that stays
  // a replica (a plain URL to a replica, a DNS name not yet moved) is asked with backoff, not
  // ten times a second.
  let staleStreak = 0;
  let lastStaleAt = 0;
  const options: RedisOptions = {
    connectionName: `lightbus:${role}`.replace(/\s/g, '_'),
    // Commands wait for a reconnect instead of failing after a few retries: losing Redis
    // delays work, it does not drop it.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    // ioredis counts attempts from 1: the first reconnect waits the backoff's base.
    retryStrategy: (attempt) => backoffDelayMs(attempt - 1 + (Date.now() - lastStaleAt < STALE_EPISODE_MS ? staleStreak : 0)),
    lazyConnect: false,
    // The ready check runs INFO, which a least-privilege ACL does not grant (ioredis then
    // warns on every connect). Without it, a server still loading its data answers LOADING,
    // which every loop retries like any other failure.
    enableReadyCheck: false,
    // 2: reconnect, then send the failed command again (ioredis's own convention).
    reconnectOnError: (error) => {
      if (!isStaleMaster(error)) return false;
      const now = Date.now();
      staleStreak = now - lastStaleAt < STALE_EPISODE_MS ? staleStreak + 1 : 0;
      lastStaleAt = now;
      if (staleStreak === 0) logger.warn({ role, err: error.message }, 'redis answered as a replica (a failover moved the master); reconnecting to the master');
      return 2;
    },
  };
  const connection = createClient(redis, options, replicaReads);
  roles.set(connection, role);
  if (redis.sentinel) watchSentinels(redis, logger, connection);
  let lost = false;
  let connectedBefore = false;
  let closing = false;
  connection.on('error', (error: Error) => {
    if (!lost && !closing) logger.warn({ role, err: describeConnectionError(error) }, 'redis connection error; reconnecting');
    lost = true;
  });
  connection.on('close', () => {
    if (!closing && !lost) logger.warn({ role }, 'redis connection lost; reconnecting with backoff');
    lost = true;
  });
  connection.on('ready', () => {
    if (lost) {
      // A first connect that had to wait for Redis is no reconnection.
      if (connectedBefore) restoredConnections++;
      logger.info({ role }, 'redis connection restored');
    }
    lost = false;
    connectedBefore = true;
  });
  const quit = connection.quit.bind(connection);
  connection.quit = (async (...args: Parameters<typeof quit>) => {
    closing = true;
    return quit(...args);
  }) as typeof connection.quit;
  const disconnect = connection.disconnect.bind(connection);
  connection.disconnect = ((reconnect?: boolean) => {
    if (!reconnect) closing = true;
    disconnect(reconnect);
  }) as typeof connection.disconnect;
  return connection;
}

/**
 * Closes a connection without waiting on a blocked command: a BLPOP/XREADGROUP BLOCK in
 * flight would hold `QUIT` until its timeout, so blocking connections are disconnected.
 */
export async function closeConnection(connection: RedisConnection, blocking: boolean): Promise<void> {
  if (connection.status === 'end') return;
  if (blocking || connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
    return;
  }
  // Through Sentinel, QUIT leaves the failover detector's subscriptions to the sentinels open
  // (ioredis #1362, unfixed in 5.x); a disconnect after it closes them.
  if (!connection.isCluster) connection.disconnect();
}

/**
 * Runs `send`; the commands it issues leave in one socket write. On this project's machines a
 * write to Redis costs tens of microseconds of CPU and often a context switch, so a loop that
 * sends "take what is there" and "then block" together saves one per wake-up. Each command
 * still gets its own reply, as soon as it arrives (unlike a `pipeline()`).
 */
export function inOneWrite<T>(connection: RedisConnection, send: () => T): T {
  // A Cluster has a socket per node and no one stream to cork: its commands go as they come.
  const stream = connection.status === 'ready' && 'stream' in connection ? connection.stream : undefined;
  if (!stream) return send();
  stream.cork();
  try {
    return send();
  } finally {
    stream.uncork();
  }
}

/** Calls `listener` each time `connection` is ready again after having been ready once: a reconnect, not the first connect. */
export function onReconnected(connection: RedisConnection, listener: () => void): void {
  let everReady = connection.status === 'ready';
  connection.on('ready', () => {
    if (everReady) listener();
    everReady = true;
  });
}
