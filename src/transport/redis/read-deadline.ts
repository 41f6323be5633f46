/**
 * Liveness deadlines for blocking reads: the guard against "running but processing nothing".
 * A BLPOP or XREADGROUP BLOCK answers within its block time, nil when nothing came. One that
 * has not answered well past it is stuck: its server is paused or wedged, a half-open socket
 * never reported its loss, or a failover left it waiting where nothing will ever arrive. No
 * error comes in any of those cases, so nothing else would notice.
 *
 * A read past its deadline is logged (warn, naming the read and what it waits on), counted
 * (`lightbus_stalled_reads_total`), reported by `/healthz` until it answers, and recovered:
 * its connection is dropped and made again (ioredis then sends the read again on the new
 * one, or fails it and the read loop retries). A read that stays stuck after that is dropped
 * again at every deadline, with a warning each time.
 */
import type { Logger } from 'pino';
import type { StalledRead } from '../types.js';
import { connectionRole, type RedisConnection } from './connection.js';

/** The least time past its block a read may take (a busy event loop, a slow network) before it counts as stalled. */
export const STALL_MARGIN_MS = 5000;

export interface BlockingRead {
  /** The command and keys it waits on (`BLPOP auth:rpc_queue`), for the warning and `/healthz`. */
  waitingOn: string;
  /** How long the command itself blocks at most. */
  blockMs: number;
}

/**
 * Reads past their deadline, by role, until a read of that role answers. A failed read does not
 * clear it: on a cluster the dropped connection fails the read at once, and the loop's next read
 * may well be stuck again.
 */
const stalledNow = new Map<string, { waitingOn: string; since: number }>();
/** Deadlines missed since the process started, by read (the metric's label). */
const missedByRead = new Map<string, number>();

/** Reads past their deadline now. */
export function stalledReads(now = Date.now()): StalledRead[] {
  return [...stalledNow].map(([read, { waitingOn, since }]) => ({ read, waitingOn, waitingMs: now - since }));
}

/** Deadlines missed since the process started, by read. */
export function missedReadDeadlines(): ReadonlyMap<string, number> {
  return missedByRead;
}

/** The deadline of a read that blocks `blockMs`: its block time plus a margin of at least as long again. */
export function readDeadlineMs(blockMs: number): number {
  return blockMs + Math.max(STALL_MARGIN_MS, blockMs);
}

/**
 * Watches `reply`, the reply to a blocking command just sent on `connection`: past its
 * deadline the read is reported and the connection made again. Resolves or rejects as `reply`.
 */
export function withReadDeadline<T>(reply: Promise<T>, connection: RedisConnection, read: BlockingRead, logger: Logger): Promise<T> {
  const sentAt = Date.now();
  const role = connectionRole(connection);
  const deadlineMs = readDeadlineMs(read.blockMs);
  let misses = 0;
  let timer: NodeJS.Timeout | undefined;
  const overdue = () => {
    // Closed on purpose meanwhile: the reply is about to fail, nothing is stuck.
    if (connection.status === 'end') return;
    // Reconnecting: the loss is known and logged, and the read is sent again once it is back.
    if (connection.status !== 'ready') {
      timer = setTimeout(overdue, deadlineMs);
      timer.unref();
      return;
    }
    misses++;
    missedByRead.set(role, (missedByRead.get(role) ?? 0) + 1);
    if (!stalledNow.has(role)) stalledNow.set(role, { waitingOn: read.waitingOn, since: sentAt });
    logger.warn(
      { read: role, waitingOn: read.waitingOn, waitedMs: Date.now() - sentAt, blockMs: read.blockMs, misses },
      'blocking read past its liveness deadline (running but reading nothing); recreating its connection',
    );
    connection.disconnect(true);
    timer = setTimeout(overdue, deadlineMs);
    timer.unref();
  };
  timer = setTimeout(overdue, deadlineMs);
  timer.unref();
  const answered = () => {
    clearTimeout(timer);
    const stall = stalledNow.get(role);
    if (!stall) return;
    stalledNow.delete(role);
    logger.info({ read: role, waitingOn: stall.waitingOn, stalledMs: Date.now() - stall.since }, 'blocking read answered again after a stall');
  };
  const failed = () => {
    clearTimeout(timer);
    // Its loop is gone with the connection: no read of this role will come to clear the stall.
    if (connection.status === 'end') stalledNow.delete(role);
  };
  reply.then(answered, failed);
  return reply;
}
