/**
 * RPC calls within one process, with the Redis transport's semantics: per-API queues, an
 * expiry marker per call (a call popped after its marker expired is dropped), fair draining
 * across APIs and a `next` that waits until something is pushed.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { CallConsumer, RpcCall, RpcTransport } from '../types.js';
import { encodeCall, rpcQueueKey } from '../wire/rpc.js';
import { CallQueues, refusedPathLog } from '../call-queues.js';
import type { RecentSet } from '../../util/recent-set.js';
import { MEMORY_RETURN_PATH_SCHEME } from './result-transport.js';
import { MemoryRpcStore, type PushWait } from './rpc-store.js';

/** What {@link MemoryRpcTransport} needs: the call expiry, where to log, the shared store. */
export interface MemoryRpcTransportOptions {
  rpc: ResolvedConfig['rpc'];
  logger: Logger;
  /** Shared with the other memory transports that stand for other processes; a private one by default. */
  store?: MemoryRpcStore;
}

/** Sends calls into a {@link MemoryRpcStore} and hands out {@link MemoryCallConsumer}s. */
export class MemoryRpcTransport implements RpcTransport {
  private readonly store: MemoryRpcStore;
  private readonly consumers = new Set<MemoryCallConsumer>();
  private readonly refusedPaths = refusedPathLog();
  private closed = false;

  constructor(private readonly options: MemoryRpcTransportOptions) {
    this.store = options.store ?? new MemoryRpcStore();
  }

  async send(call: RpcCall): Promise<void> {
    if (this.closed) throw new BusClosedError('Cannot send an RPC call: the RPC transport is closed');
    const blob = encodeCall(call);
    this.store.setMarker(call.id, this.options.rpc.expiryMs);
    this.store.push(rpcQueueKey(call.api), [blob]);
  }

  consume(apis: string[]): CallConsumer {
    if (this.closed) throw new BusClosedError('Cannot consume RPC calls: the RPC transport is closed');
    if (apis.length === 0) throw new TypeError('consume() needs at least one API name');
    const consumer = new MemoryCallConsumer(apis, this.store, this.options.logger, this.refusedPaths, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
  }
}

/** Serves the calls of some APIs from a {@link MemoryRpcStore}. */
export class MemoryCallConsumer implements CallConsumer {
  private readonly queues: CallQueues;
  private closed = false;
  private waiting: PushWait | undefined;

  constructor(
    apis: string[],
    private readonly store: MemoryRpcStore,
    logger: Logger,
    refusedPaths: RecentSet,
    private readonly onClose: () => void,
  ) {
    this.queues = new CallQueues(apis, logger, MEMORY_RETURN_PATH_SCHEME, refusedPaths);
  }

  next(max: number): Promise<RpcCall[]> {
    return this.queues.serially(() => this.take(Math.max(1, Math.floor(max))));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.cancel();
    await this.queues.idle();
    this.onClose();
  }

  private async take(max: number): Promise<RpcCall[]> {
    while (!this.closed) {
      const calls = this.keepUnexpired(this.drain(max));
      if (calls.length > 0) return calls;
      this.waiting = this.store.waitForPush(this.queues.keys);
      await this.waiting.pushed;
      this.waiting = undefined;
    }
    return [];
  }

  /** A fair share from each queue first (starting with a different one each time), then whatever is left. */
  private drain(max: number): Array<[string, string]> {
    const queues = this.queues.rotated();
    const share = Math.ceil(max / queues.length);
    const popped: Array<[string, string]> = [];
    for (const fairShareOnly of [true, false]) {
      for (const queue of queues) {
        const want = Math.min(max - popped.length, fairShareOnly ? share : Infinity);
        if (want > 0) for (const blob of this.store.pop(queue, want)) popped.push([queue, blob]);
      }
    }
    return popped;
  }

  private keepUnexpired(popped: Array<[string, string]>): RpcCall[] {
    const calls: RpcCall[] = [];
    for (const [queue, blob] of popped) {
      const call = this.queues.decode(queue, blob);
      if (!call) continue;
      if (!this.store.takeMarker(call.id)) this.queues.expired(call);
      else if (this.queues.answerable(call)) calls.push(call);
    }
    return calls;
  }
}
