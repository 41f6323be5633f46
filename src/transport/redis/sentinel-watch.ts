/**
 * Moves a process's Sentinel connections off a master the sentinels have replaced. In a
 * switchover (`SENTINEL FAILOVER`, or a partition the old master survives) the old master stays
 * up and takes writes for about 10 s, until the sentinels demote it and it drops its clients;
 * everything written there meanwhile is lost when it resyncs from the new one. Subscribed to
 * `+switch-master` on every sentinel, the connections reconnect (through the sentinels, to the
 * new master) as soon as it is announced: measured 0.1 s after the sentinels name it.
 *
 * One watch per sentinel setup and process, shared by every connection to that master, not
 * ioredis's `failoverDetector` (a subscription per connection and sentinel, left open by QUIT:
 * ioredis #1362, and its connection errors printed to stderr, not logged). It closes with the
 * last connection it moves, so a process that closed its buses holds nothing open.
 */
import type { Logger } from 'pino';
import { Redis } from '../../vendor/ioredis.js';
import type { ResolvedConfig } from '../../config/schema.js';
import { redactUrl } from '../../core/redact-url.js';
import { backoffDelayMs } from '../../util/backoff.js';
import { sentinelNodeOptions } from './topology.js';

const SWITCH_MASTER = '+switch-master';

type SentinelConfig = NonNullable<ResolvedConfig['redis']['sentinel']>;

/** What a watch needs of a connection: to be dropped and reconnected, and to say when it is closed for good. */
export interface MovableConnection {
  disconnect(reconnect?: boolean): void;
  once(event: 'end', listener: () => void): unknown;
}

class SentinelWatch {
  private readonly connections = new Set<MovableConnection>();
  private readonly subscribers: Redis[];
  /** The master the connections were last moved to: the same announcement from each sentinel moves them once. */
  private lastMovedTo: string | undefined;
  private closed = false;

  constructor(
    redis: ResolvedConfig['redis'],
    private readonly sentinel: SentinelConfig,
    private readonly logger: Logger,
    private readonly onEmpty: () => void,
  ) {
    this.subscribers = sentinel.sentinels.map((url) => this.subscribe(redis, url));
  }

  add(connection: MovableConnection): void {
    this.connections.add(connection);
    connection.once('end', () => {
      this.connections.delete(connection);
      if (this.connections.size > 0) return;
      this.closed = true;
      for (const subscriber of this.subscribers) subscriber.disconnect();
      this.onEmpty();
    });
  }

  private subscribe(redis: ResolvedConfig['redis'], url: string): Redis {
    const where = redactUrl(url);
    const subscriber = new Redis({
      ...sentinelNodeOptions(redis, url),
      connectionName: 'lightbus:sentinel-watch',
      maxRetriesPerRequest: null,
      enableReadyCheck: false,
      retryStrategy: (attempt) => backoffDelayMs(attempt - 1),
    });
    let lost = false;
    const onLoss = (error?: Error) => {
      if (!lost && !this.closed) this.logger.warn({ sentinel: where, ...(error ? { err: error.message } : {}) }, 'sentinel unreachable; reconnecting (a switchover is noticed through the other sentinels, or when the old master drops its clients)');
      lost = true;
    };
    subscriber.on('error', onLoss);
    subscriber.on('close', () => onLoss());
    subscriber.on('ready', () => {
      if (lost) this.logger.info({ sentinel: where }, 'sentinel reachable again');
      lost = false;
    });
    // ioredis subscribes again after each reconnect.
    subscriber.subscribe(SWITCH_MASTER).catch(() => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      // "<name> <old-ip> <old-port> <new-ip> <new-port>", from every sentinel: the first moves them.
      if (channel !== SWITCH_MASTER || message.split(' ')[0] !== this.sentinel.name) return;
      this.moveAll(message);
    });
    return subscriber;
  }

  private moveAll(announcement: string): void {
    const [, , , host, port] = announcement.split(' ');
    const to = `${host}:${port}`;
    if (this.lastMovedTo === to) return;
    this.lastMovedTo = to;
    this.logger.info({ master: this.sentinel.name, to, connections: this.connections.size }, 'the sentinels announced a new master; moving every connection there');
    for (const connection of this.connections) connection.disconnect(true);
  }
}

const watches = new Map<string, SentinelWatch>();

/** Puts a Sentinel connection under the watch of its sentinel setup (made on first use). */
export function watchSentinels(redis: ResolvedConfig['redis'], logger: Logger, connection: MovableConnection): void {
  const sentinel = redis.sentinel;
  if (!sentinel) return;
  const key = JSON.stringify([sentinel.name, sentinel.sentinels]);
  let watch = watches.get(key);
  if (!watch) {
    watch = new SentinelWatch(redis, sentinel, logger, () => watches.delete(key));
    watches.set(key, watch);
  }
  watch.add(connection);
}
