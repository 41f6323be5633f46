/**
 * RPC results over Redis lists (docs/wire-format.md, "RPC and results"). Servers push results to
 * the list their caller named (`LPUSH` + `EXPIRE`); a calling process listens on ONE list of
 * its own for all its calls and matches results by call id. The contract allows this: nothing
 * ties a return path to a call.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { ResultTransport, RpcResult } from '../types.js';
import { deliverResult } from '../result-delivery.js';
import { encodeResult, redisReturnPath, returnPathKey } from '../wire/rpc.js';
import { closeConnection, createConnection, inOneWrite, type RedisConnection } from './connection.js';
import { KeyedBatcher } from './keyed-batcher.js';
import { withScripts } from './scripts.js';
import { BlockingPop, type Popped } from './blocking-pop.js';
import { settleWithin } from '../../util/timeouts.js';
import { Backoff } from '../../util/backoff.js';

/** What {@link RedisResultTransport} needs; the names go into this process's return path. */
export interface RedisResultTransportOptions {
  redis: ResolvedConfig['redis'];
  rpc: ResolvedConfig['rpc'];
  logger: Logger;
  serviceName: string;
  processName: string;
}

/** How long one blocking pop waits before the loop goes round again. */
const BLOCK_SECONDS = 2;
/** How many results one pop takes at most. */
const DRAIN_COUNT = 500;
/** How long close waits on Redis (queued sends, deleting the list) before giving up. */
const CLOSE_WAIT_MS = 1000;
/** The result side of RPC over Redis: sends results to callers and receives this process's own. */
export class RedisResultTransport implements ResultTransport {
  /** `redis+key://lightbus:results:{service}:{process}:{random}`; the random part keeps two instances sharing a process name apart. */
  readonly returnPath: string;
  private readonly resultKey: string;
  private readonly logger: Logger;
  private readonly backoff = new Backoff();
  private sender: { connection: RedisConnection; batcher: KeyedBatcher<string> } | undefined;
  private listenConnection: RedisConnection | undefined;
  private listening: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RedisResultTransportOptions) {
    this.resultKey = `lightbus:results:${options.serviceName}:${options.processName}:${randomBytes(6).toString('hex')}`;
    this.returnPath = redisReturnPath(this.resultKey);
    this.logger = options.logger.child({ component: 'rpc-results' });
  }

  /**
   * Pushes a result to `redis+key://{key}` (LPUSH, then PEXPIRE: the contract's EXPIRE at a
   * finer grain), refusing keys that are not of a result-key shape and keys holding anything
   * but a list. The results of one tick for one return path leave in one script run.
   */
  send(returnPath: string, result: RpcResult): Promise<void> {
    // Not async, as RedisRpcTransport.send: one promise per result.
    try {
      if (this.closed) throw new BusClosedError('Cannot send an RPC result: the result transport is closed');
      return this.connectSender().batcher.add(returnPathKey(returnPath), encodeResult(result));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  listen(onResult: (result: RpcResult) => void): void {
    if (this.closed) throw new BusClosedError('Cannot listen for RPC results: the result transport is closed');
    if (this.listening) throw new Error('listen() was already called on this result transport');
    this.listenConnection = createConnection({ redis: this.options.redis, logger: this.logger, role: 'rpc:results' });
    this.listening = this.receive(this.listenConnection, onResult);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.backoff.stop();
    if (this.listenConnection) await closeConnection(this.listenConnection, true);
    await this.listening;
    if (this.listening) {
      // Results that arrive for this process after it stopped listening have no reader.
      await settleWithin(this.connectSender().connection.del(this.resultKey), CLOSE_WAIT_MS);
    }
    if (this.sender) {
      await settleWithin(this.sender.batcher.drain(), CLOSE_WAIT_MS);
      await closeConnection(this.sender.connection, false);
    }
  }

  private connectSender(): { connection: RedisConnection; batcher: KeyedBatcher<string> } {
    if (!this.sender) {
      const connection = withScripts(createConnection({ redis: this.options.redis, logger: this.logger, role: 'rpc:send-results' }));
      const ttlMs = this.options.rpc.resultTtlMs;
      // lua/send-results.lua: only a list (or nothing) at the key gets the results and the expiry.
      const batcher = new KeyedBatcher<string>(connection, (_, key, blobs) => connection.lightbusSendResults(key, ttlMs, ...blobs));
      this.sender = { connection, batcher };
    }
    return this.sender;
  }

  /**
   * One BLMPOP takes every result a burst left in the list, so the burst is delivered in one
   * turn (blocking-pop.ts). Where BLMPOP is refused, each BLPOP wake-up is followed by the LPOP
   * that takes the rest, sent in one write with the next BLPOP.
   */
  private async receive(connection: RedisConnection, onResult: (result: RpcResult) => void): Promise<void> {
    const pops = new BlockingPop(this.logger);
    const deliver = (blobs: readonly string[]) => {
      for (const blob of blobs) deliverResult(blob, onResult, this.logger, this.resultKey);
    };
    let waiting: Promise<Popped | null> | undefined;
    while (!this.closed) {
      try {
        waiting ??= pops.pop(connection, [this.resultKey], DRAIN_COUNT, BLOCK_SECONDS);
        const popped = await waiting;
        waiting = undefined;
        this.backoff.reset();
        if (popped) deliver(popped[1]);
        if (!popped || pops.popsMany) continue;
        const [rest, next] = inOneWrite(connection, () => [connection.lpop(this.resultKey, DRAIN_COUNT), pops.pop(connection, [this.resultKey], DRAIN_COUNT, BLOCK_SECONDS)]);
        waiting = next;
        // Settled (and logged) where it is awaited; unhandled until then.
        next.catch(() => undefined);
        deliver((await rest) ?? []);
      } catch (error) {
        waiting = undefined;
        if (this.closed) break;
        this.logger.warn({ err: (error as Error).message }, 'receiving RPC results failed; retrying after a pause');
        await this.backoff.wait();
      }
    }
  }
}
