/**
 * The server side of RPC on a Redis Cluster for the queues of several slots: with Python's key
 * names every API's queue and every call's marker may sit on a different node, and with the
 * hash-tagged names each API's keys share a slot but two APIs need not. Nothing here touches
 * two keys at once. (A server of ONE API with the hash-tagged names uses the single-server
 * {@link RedisCallConsumer} instead: its queue and markers share a slot.)
 *
 * - A read takes what waits: `LPOP queue count` on each queue (a fair share each, then what is
 *   left), then each popped call's marker with take-marker.lua (PTTL + DEL of one key). A call
 *   whose marker is gone is dropped unexecuted, as on one server: at-most-once holds.
 * - When every queue was empty it blocks: one `BLPOP queue 2` per queue, each on a client of
 *   its own (a blocking command holds its node's connection), so a server of N APIs holds N
 *   blocking clients besides one for the rest (docs/scaling.md). The first BLPOP to answer ends
 *   the wait; what the others pop is kept and handed out (marker checked first) by the next
 *   read, or put back at the head of its queue on close: at most one call per queue is held.
 */
import type { Logger } from 'pino';
import type { CallConsumer, RpcCall } from '../types.js';
import { CallQueues } from '../call-queues.js';
import { REDIS_RETURN_PATH_SCHEME } from '../wire/rpc.js';
import type { KeyLayout } from '../wire/key-layout.js';
import { closeConnection, createConnection, type RedisConnection } from './connection.js';
import type { ResolvedConfig } from '../../config/schema.js';
import { Backoff } from '../../util/backoff.js';
import { withScripts, type ScriptedConnection } from './scripts.js';
import { withReadDeadline } from './read-deadline.js';
import type { RecentSet } from '../../util/recent-set.js';

/** take-marker.lua's answer for a marker that no longer exists. */
const MARKER_GONE = -2;
/** How long one BLPOP blocks before the loop goes round again. */
const BLOCK_SECONDS = 2;

interface Blocker {
  connection: RedisConnection;
  /** The BLPOP out on this queue, if any. */
  popped?: Promise<[string, string] | null>;
  /** Its answer, once it came and before a read took it. */
  settled?: [string, string] | null;
  /** Why its last BLPOP failed, for the read loop to back off on. */
  failed?: unknown;
}

export class ClusterCallConsumer implements CallConsumer {
  private readonly commands: ScriptedConnection;
  private readonly queues: CallQueues;
  private readonly logger: Logger;
  private readonly backoff = new Backoff();
  private readonly blockers = new Map<string, Blocker>();
  private closed = false;

  constructor(
    apis: string[],
    private readonly options: { redis: ResolvedConfig['redis']; logger: Logger; keys: KeyLayout },
    refusedPaths: RecentSet,
    private readonly onClose: () => void,
  ) {
    this.queues = new CallQueues(apis, options.logger, REDIS_RETURN_PATH_SCHEME, refusedPaths, options.keys);
    this.logger = this.queues.logger;
    this.commands = withScripts(createConnection({ redis: options.redis, logger: this.logger, role: `rpc:consume:${apis.join(',')}` }));
  }

  next(max: number): Promise<RpcCall[]> {
    return this.queues.serially(() => this.take(Math.max(1, Math.floor(max))));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.backoff.stop();
    const untaken = [...this.blockers.values()].flatMap((blocker) => (blocker.settled ? [blocker.settled] : []));
    await Promise.all([...this.blockers.values()].map((blocker) => closeConnection(blocker.connection, true)));
    if (untaken.length > 0 && this.commands.status === 'ready') {
      try {
        await Promise.all(untaken.map(([queue, blob]) => this.commands.lpush(queue, blob)));
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, calls: untaken.length }, 'could not put back RPC calls taken but not run; their callers will time out');
      }
    }
    await closeConnection(this.commands, false);
    await this.queues.idle();
    this.onClose();
  }

  private async take(max: number): Promise<RpcCall[]> {
    while (!this.closed) {
      try {
        const popped = this.takeSettled();
        if (popped.length < max) popped.push(...(await this.drainWithDeadline(max - popped.length)));
        const calls = await this.checkMarkers(popped);
        this.backoff.reset();
        if (calls.length > 0) return calls;
        if (popped.length === 0) await this.block();
      } catch (error) {
        if (this.closed) break;
        this.logger.warn({ err: (error as Error).message }, 'consuming RPC calls failed; retrying after a pause');
        await this.backoff.wait();
      }
    }
    return [];
  }

  /** What BLPOPs answered since the last read. */
  private takeSettled(): Array<[string, string]> {
    const popped: Array<[string, string]> = [];
    for (const blocker of this.blockers.values()) {
      if (blocker.settled === undefined) continue;
      if (blocker.settled) popped.push(blocker.settled);
      blocker.settled = undefined;
      blocker.popped = undefined;
    }
    return popped;
  }

  /**
   * {@link drain} under a liveness deadline: its LPOPs do not block, but a paused or wedged node
   * holds them as it would a BLPOP, and the loop would never reach its blocking read.
   */
  private drainWithDeadline(want: number): Promise<Array<[string, string]>> {
    return withReadDeadline(this.drain(want), this.commands, { waitingOn: `LPOP ${this.queues.keys.join(' ')}`, blockMs: 0 }, this.logger);
  }

  /** Up to `want` calls from the queues: a fair share from each first, then what is left. */
  private async drain(want: number): Promise<Array<[string, string]>> {
    const queues = this.queues.rotated();
    const share = Math.ceil(want / queues.length);
    const popped: Array<[string, string]> = [];
    const firstPass = await Promise.all(queues.map((queue) => this.commands.lpop(queue, share)));
    queues.forEach((queue, i) => firstPass[i]?.forEach((blob) => popped.push([queue, blob])));
    for (const queue of queues) {
      if (popped.length >= want) break;
      for (const blob of (await this.commands.lpop(queue, want - popped.length)) ?? []) popped.push([queue, blob]);
    }
    return popped;
  }

  /** The calls among `popped` whose marker was live; each marker deleted in the same step it is read. */
  private async checkMarkers(popped: Array<[string, string]>): Promise<RpcCall[]> {
    const decoded = popped.map(([queue, blob]) => this.queues.decode(queue, blob));
    const markers = await Promise.all(
      decoded.map((call, i) => (call && call.id !== '' ? this.commands.lightbusTakeMarker(this.queues.marker(popped[i]![0], call.id)) : MARKER_GONE)),
    );
    const now = Date.now();
    const calls: RpcCall[] = [];
    decoded.forEach((call, i) => {
      if (!call) return;
      const left = Number(markers[i]);
      if (left === MARKER_GONE || left < -1) return this.queues.expired(call);
      if (left >= 0) call.deadline = now + left;
      if (this.queues.answerable(call)) calls.push(call);
    });
    return calls;
  }

  /** One BLPOP out per queue (each on its own client); resolves when the first answers. */
  private async block(): Promise<void> {
    const waits: Array<Promise<unknown>> = [];
    for (const queue of this.queues.keys) {
      let blocker = this.blockers.get(queue);
      if (!blocker) {
        // A take still out when the consumer closed must not open a client that nothing closes.
        if (this.closed) return;
        blocker = { connection: createConnection({ redis: this.options.redis, logger: this.logger, role: `rpc:block:${queue}` }) };
        this.blockers.set(queue, blocker);
      }
      let popped = blocker.popped;
      if (!popped) {
        const out = blocker;
        popped = out.popped = withReadDeadline(out.connection.blpop(queue, BLOCK_SECONDS), out.connection, { waitingOn: `BLPOP ${queue}`, blockMs: BLOCK_SECONDS * 1000 }, this.logger);
        popped.then(
          (settled) => (out.settled = settled),
          (error: unknown) => {
            // Popped nothing: the next read sends another BLPOP, after the backoff.
            out.popped = undefined;
            out.failed = error;
          },
        );
      }
      waits.push(popped.catch(() => undefined));
    }
    await Promise.race(waits);
    for (const blocker of this.blockers.values()) {
      if (blocker.failed === undefined) continue;
      const error = blocker.failed;
      blocker.failed = undefined;
      throw error;
    }
    // Let the settle handlers above run before the next read looks at them.
    await Promise.resolve();
  }
}
