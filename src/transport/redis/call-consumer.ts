/**
 * The server side of RPC over Redis lists: pops calls from the queues of some APIs and keeps
 * the contract's at-most-once rule (a call whose expiry marker is gone is dropped unexecuted).
 *
 * One blocking connection of its own. Each read sends, in one write, a script that drains the
 * queues without blocking (deleting the markers of what it takes) and a blocking pop behind it
 * (BLMPOP: a burst pushed together comes out together; blocking-pop.ts), so a server that is
 * idle or lightly loaded spends one write and one wake-up per burst of calls.
 */
import type { Logger } from 'pino';
import type { CallConsumer, RpcCall } from '../types.js';
import { CallQueues } from '../call-queues.js';
import { REDIS_RETURN_PATH_SCHEME } from '../wire/rpc.js';
import type { KeyLayout } from '../wire/key-layout.js';
import { closeConnection, createConnection, inOneWrite, type RedisConnection } from './connection.js';
import type { ResolvedConfig } from '../../config/schema.js';
import { Backoff } from '../../util/backoff.js';
import { withScripts, type ScriptedConnection } from './scripts.js';
import { withReadDeadline } from './read-deadline.js';
import { BlockingPop, type Popped } from './blocking-pop.js';
import type { RecentSet } from '../../util/recent-set.js';

/** drain-calls.lua's answer for a marker that no longer exists (expired, or its call withdrawn). */
const MARKER_GONE = -2;

/** How long one blocking pop waits before the loop goes round again. */
const BLOCK_SECONDS = 2;

/** The blocking pop sent behind a drain; what it pops is handed out by the next read. */
interface Blocked {
  popped: Promise<Popped | null>;
  /**
   * Whether the drain in front of it left every queue empty (it took fewer calls than it
   * asked for): then what the pop takes was pushed a moment ago, its markers cannot have
   * expired, and the calls run at once while the next drain deletes their markers. Otherwise
   * they may be old ones from a backlog, and the next drain checks their markers before they run.
   */
  fresh: boolean;
  /** Set once the pop answered, so close() can put back calls nobody took. */
  settled?: Popped | null;
}

export class RedisCallConsumer implements CallConsumer {
  private readonly connection: ScriptedConnection;
  private readonly queues: CallQueues;
  private readonly logger: Logger;
  private readonly backoff = new Backoff();
  private closed = false;
  private blocked: Blocked | undefined;
  private readonly pops: BlockingPop;
  /**
   * Whether the last drain took all it asked for (a backlog): then the pop behind the next one
   * takes a single call, as it would only take calls that wait their turn in memory. Until a
   * drain says otherwise, a backlog is assumed.
   */
  private backlog = true;
  /** The markers of calls already running (fresh from a pop), which the next drain deletes. */
  private running: string[] = [];
  /** Calls popped behind a busy drain (or beyond the free slots), held until a drain finds their markers. */
  private unchecked: Array<{ call: RpcCall; queue: string; blob: string }> = [];

  constructor(
    apis: string[],
    options: { redis: ResolvedConfig['redis']; logger: Logger; keys: KeyLayout },
    refusedPaths: RecentSet,
    private readonly onClose: () => void,
  ) {
    this.queues = new CallQueues(apis, options.logger, REDIS_RETURN_PATH_SCHEME, refusedPaths, options.keys);
    this.logger = this.queues.logger;
    this.connection = withScripts(createConnection({ redis: options.redis, logger: this.logger, role: `rpc:consume:${apis.join(',')}` }));
    this.pops = new BlockingPop(this.logger);
  }

  next(max: number): Promise<RpcCall[]> {
    return this.queues.serially(() => this.take(Math.max(1, Math.floor(max))));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.backoff.stop();
    await this.putBackUntaken();
    await closeConnection(this.connection, true);
    await this.queues.idle();
    this.onClose();
  }

  private async take(max: number): Promise<RpcCall[]> {
    while (!this.closed) {
      try {
        const fromBlock = await this.takeBlocked(max);
        if (fromBlock.length > 0) return fromBlock;
        const calls = await this.drainThenBlock(max);
        this.backoff.reset();
        if (calls.length > 0) return calls;
      } catch (error) {
        this.blocked = undefined;
        if (this.closed) break;
        this.logger.warn({ err: (error as Error).message }, 'consuming RPC calls failed; retrying after a pause');
        await this.backoff.wait();
      }
    }
    return [];
  }

  /** Waits for the pop left by the last read; fresh calls come out at once, as many as `max`. */
  private async takeBlocked(max: number): Promise<RpcCall[]> {
    const blocked = this.blocked;
    if (!blocked) return [];
    const popped = await blocked.popped;
    this.blocked = undefined;
    if (!popped) return [];
    const [queue, blobs] = popped;
    const calls: RpcCall[] = [];
    const now = Date.now();
    for (const blob of blobs) {
      const call = this.queues.decode(queue, blob);
      if (!call) continue;
      if (!blocked.fresh || calls.length >= max) {
        this.unchecked.push({ call, queue, blob });
        continue;
      }
      this.running.push(this.queues.marker(queue, call.id));
      // Pushed a moment ago: the caller waits about its whole timeout from now.
      if (call.timeoutMs !== undefined) call.deadline = now + call.timeoutMs;
      if (this.queues.answerable(call)) calls.push(call);
    }
    return calls;
  }

  private async drainThenBlock(max: number): Promise<RpcCall[]> {
    const queues = this.queues.rotated();
    const running = this.running;
    // No more held calls run than there are slots: the others wait for a later read.
    const unchecked = this.unchecked.slice(0, max);
    const markers = [...running, ...unchecked.map((held) => this.queues.marker(held.queue, held.call.id))];
    const want = max - unchecked.length;
    const popCount = this.backlog ? 1 : Math.max(1, want);
    const [drained, popped] = inOneWrite(this.connection, () => [
      this.connection.lightbusDrainCalls(queues.length, ...queues, want, ...queues.map((queue) => this.queues.markerPrefix(queue)), ...markers),
      withReadDeadline(this.pops.pop(this.connection, queues, popCount, BLOCK_SECONDS), this.connection, { waitingOn: `${this.pops.command} ${queues.join(' ')}`, blockMs: BLOCK_SECONDS * 1000 }, this.logger),
    ]);
    const blocked: Blocked = { popped, fresh: false };
    this.blocked = blocked;
    popped.then((settled) => (blocked.settled = settled), () => undefined);
    const [count, ...rest] = await drained;
    // Only once the script ran: a failed drain leaves them for the next one.
    this.running = this.running.slice(running.length);
    this.unchecked = this.unchecked.slice(unchecked.length);
    const answers = rest.slice(0, Number(count)).map(Number);
    const missing = answers.slice(0, running.length).filter((left) => left === MARKER_GONE).length;
    if (missing > 0) this.logger.warn({ calls: missing }, 'ran RPC calls whose expiry marker was missing (their caller wrote none, withdrew the call, or gave an expiry shorter than a moment)');
    const now = Date.now();
    const calls = unchecked.map((held) => held.call).filter((call, i) => this.keepIfLive(call, answers[running.length + i]!, now));
    const triples = rest.slice(Number(count));
    for (let i = 0; i + 2 < triples.length; i += 3) {
      const call = this.queues.decode(String(triples[i]), String(triples[i + 1]));
      if (call && this.keepIfLive(call, Number(triples[i + 2]), now)) calls.push(call);
    }
    const taken = triples.length / 3;
    this.backlog = taken >= want;
    blocked.fresh = taken < want;
    return calls;
  }

  /**
   * A call runs only if its marker was live (drain-calls.lua's answer: the ms its caller still
   * waits, or -1 for a marker without TTL); what was left of the marker is its deadline.
   */
  private keepIfLive(call: RpcCall, markerLeft: number, now: number): boolean {
    if (markerLeft < -1) {
      this.queues.expired(call);
      return false;
    }
    if (markerLeft >= 0) call.deadline = now + markerLeft;
    return this.queues.answerable(call);
  }


  /**
   * Calls the last pop took, or ones waiting for their marker check, that no read took:
   * back to the head of their queue, in the order they were taken, where another server (or
   * this one, restarted) finds them.
   */
  private async putBackUntaken(): Promise<void> {
    const untaken: Array<[string, string]> = this.unchecked.map(({ queue, blob }) => [queue, blob]);
    this.unchecked = [];
    const settled = this.blocked?.settled;
    if (settled) for (const blob of settled[1]) untaken.push([settled[0], blob]);
    if (untaken.length === 0 || this.connection.status !== 'ready') return;
    try {
      // Last first: each LPUSH goes to the head, so the queue's head ends in the order they were taken.
      await Promise.all(untaken.reverse().map(([queue, blob]) => this.connection.lpush(queue, blob)));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, calls: untaken.length }, 'could not put back RPC calls taken but not run; their callers will time out');
    }
  }
}
