/**
 * RPC calls over Redis lists (docs/wire-format.md, "RPC and results"): a caller sets the call's
 * expiry marker and pushes the call onto `{api}:rpc_queue` (the names `redis.keys` picks:
 * key-layout.ts); a server pops calls and deletes their markers, dropping the calls whose
 * marker had already expired (at-most-once): see {@link RedisCallConsumer}.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { CallConsumer, CancelWatch, RpcCall, RpcTransport } from '../types.js';
import { cancelChannel, DEFAULT_CALL_TIMEOUT_MS, encodeCall } from '../wire/rpc.js';
import { keyLayoutOf, type KeyLayout } from '../wire/key-layout.js';
import { refusedPathLog } from '../call-queues.js';
import { RedisCallConsumer } from './call-consumer.js';
import { ClusterCallConsumer } from './cluster-call-consumer.js';
import { RedisCancelWatch } from './cancel-watch.js';
import { closeConnection, createConnection, inOneWrite, type RedisConnection } from './connection.js';
import { KeyedBatcher } from './keyed-batcher.js';
import { withScripts, type ScriptedConnection } from './scripts.js';
import { isClusterConfig } from './topology.js';
import { settleWithin } from '../../util/timeouts.js';

/** What {@link RedisRpcTransport} needs: where Redis is, where to log. */
export interface RedisRpcTransportOptions {
  redis: ResolvedConfig['redis'];
  logger: Logger;
}


/** How long close waits for queued sends before giving up on them. */
const CLOSE_FLUSH_MS = 1000;
interface OutgoingCall {
  api: string;
  id: string;
  blob: string;
  ttlMs: number;
}

/** Sends calls (a tick's calls to one API as one script run, every API's in one socket write) and hands out {@link CallConsumer}s. */
export class RedisRpcTransport implements RpcTransport {
  private sender: { connection: RedisConnection; batcher: KeyedBatcher<OutgoingCall> } | undefined;
  private readonly consumers = new Set<CallConsumer & { close(): Promise<void> }>();
  private readonly cancelWatches = new Set<RedisCancelWatch>();
  private readonly refusedPaths = refusedPathLog();
  private closed = false;
  /** The key names of `redis.keys`. */
  private readonly keys: KeyLayout;
  /** On a cluster, unless an API's keys share a slot: every marker and queue in a slot of its own. */
  private readonly keysSplitOverSlots: boolean;

  constructor(private readonly options: RedisRpcTransportOptions) {
    this.keys = keyLayoutOf(options.redis);
    this.keysSplitOverSlots = isClusterConfig(options.redis) && !this.keys.apiInOneSlot;
  }

  /**
   * Queues a call. The calls of one tick to one API leave as one script run that sets each
   * call's marker and then RPUSHes them all: a server never pops a call whose marker is not
   * there yet, and Redis runs one command instead of two per call. `SET ... PX` is the
   * contract's SET + EXPIRE in one atomic command: a Python server only checks that DEL
   * removes the key. The marker lives as long as the caller waits (`call.timeoutMs`), as
   * Python's lives its caller's `rpc_timeout`.
   */
  send(call: RpcCall): Promise<void> {
    // Not async: one promise per call, not three (each also pays the AsyncLocalStorage hook).
    try {
      if (this.closed) throw new BusClosedError('Cannot send an RPC call: the RPC transport is closed');
      const blob = encodeCall(call);
      this.sender ??= this.connectSender();
      return this.sender.batcher.add(this.keys.rpcQueue(call.api), { api: call.api, id: call.id, blob, ttlMs: Math.max(1, Math.ceil(call.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS)) });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes the call's marker and publishes its id on the API's cancel channel, in one write. */
  async cancel(api: string, callId: string): Promise<void> {
    if (this.closed) return;
    this.sender ??= this.connectSender();
    const { connection } = this.sender;
    await Promise.all(inOneWrite(connection, () => [connection.del(this.keys.expiryMarker(api, callId)), connection.publish(cancelChannel(api), callId)]));
  }

  watchCancels(onCancel: (callId: string) => void): CancelWatch {
    if (this.closed) throw new BusClosedError('Cannot watch for cancelled calls: the RPC transport is closed');
    const watch = new RedisCancelWatch(this.options, onCancel, () => this.cancelWatches.delete(watch));
    this.cancelWatches.add(watch);
    return watch;
  }

  consume(apis: string[]): CallConsumer {
    if (this.closed) throw new BusClosedError('Cannot consume RPC calls: the RPC transport is closed');
    if (apis.length === 0) throw new TypeError('consume() needs at least one API name');
    // One API's queue and markers share a slot with the hash-tagged keys: the single-server
    // consumer's scripts then run on a cluster too. Several APIs' queues may be on several nodes.
    const inOneSlot = !isClusterConfig(this.options.redis) || (this.keys.apiInOneSlot && new Set(apis).size === 1);
    const Consumer = inOneSlot ? RedisCallConsumer : ClusterCallConsumer;
    const consumer: CallConsumer & { close(): Promise<void> } = new Consumer(apis, { ...this.options, keys: this.keys }, this.refusedPaths, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers, ...this.cancelWatches].map((closing) => closing.close()));
    if (this.sender) {
      await settleWithin(this.sender.batcher.drain(), CLOSE_FLUSH_MS);
      await closeConnection(this.sender.connection, false);
    }
  }

  private connectSender(): { connection: RedisConnection; batcher: KeyedBatcher<OutgoingCall> } {
    const connection = withScripts(createConnection({ redis: this.options.redis, logger: this.options.logger, role: 'rpc:send' }));
    const keys = this.keys;
    if (this.keysSplitOverSlots) {
      // Each queue's pushes leave one after another: a later batch whose markers (on other
      // nodes) answered first would otherwise push its calls ahead of an earlier batch's.
      const lastPush = new Map<string, Promise<unknown>>();
      const batcher = new KeyedBatcher<OutgoingCall>(connection, (_, queue, calls) => {
        const pushed = sendCallsPerSlot(connection, keys, queue, calls, lastPush.get(queue));
        const settled = pushed.catch(() => undefined);
        lastPush.set(queue, settled);
        void settled.then(() => lastPush.get(queue) === settled && lastPush.delete(queue));
        return pushed;
      });
      return { connection, batcher };
    }
    // A lone call goes through the script too: the queue's TTL must be set in the same step
    // as the push (a plain PEXPIRE cannot say "only if longer, or none yet"). The calls of one
    // queue are to one API, so with the hash-tagged keys the script is single-slot on a cluster.
    const batcher = new KeyedBatcher<OutgoingCall>(connection, (_, queue, calls) => {
      const api = calls[0]!.api;
      const markers = calls.map((call) => keys.expiryMarker(api, call.id));
      return connection.lightbusSendCalls(1 + calls.length, queue, ...markers, keys.expiryMarkerPrefix(api), ...calls.map((call) => call.ttlMs), ...calls.map((call) => call.blob));
    });
    return { connection, batcher };
  }
}

/**
 * On a cluster every marker has a slot of its own and the queue another: the markers are set
 * first and their replies awaited (a server that pops a call before its marker exists drops
 * it), then, once the queue's previous push is done (`after`), one single-slot script pushes
 * the calls and raises the queue's TTL.
 */
async function sendCallsPerSlot(connection: RedisConnection, keys: KeyLayout, queue: string, calls: OutgoingCall[], after?: Promise<unknown>): Promise<unknown> {
  let ttl = 0;
  await Promise.all([
    after,
    ...calls.map((call) => {
      if (call.ttlMs > ttl) ttl = call.ttlMs;
      return connection.set(keys.expiryMarker(call.api, call.id), '1', 'PX', call.ttlMs);
    }),
  ]);
  return (connection as ScriptedConnection).lightbusPushCalls(queue, ttl, ...calls.map((call) => call.blob));
}
