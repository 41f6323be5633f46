/**
 * RPC calls within one process, with the Redis transport's semantics: per-API queues, an
 * expiry marker per call (a call popped after its marker expired is dropped), fair draining
 * across APIs and a `next` that waits until something is pushed.
 */
import type { Logger } from 'pino';
import { BusClosedError } from '../../errors.js';
import type { CallConsumer, CancelWatch, RpcCall, RpcTransport } from '../types.js';
import { cancelChannel, DEFAULT_CALL_TIMEOUT_MS, encodeCall, rpcQueueKey } from '../wire/rpc.js';
import { CallQueues, refusedPathLog } from '../call-queues.js';
import type { RecentSet } from '../../util/recent-set.js';
import { MEMORY_RETURN_PATH_SCHEME } from './result-transport.js';
import { MemoryRpcStore, type PushWait } from './rpc-store.js';

/** What {@link MemoryRpcTransport} needs: where to log, the shared store. */
export interface MemoryRpcTransportOptions {
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
    this.store.setMarker(call.id, Math.max(1, call.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
    this.store.push(rpcQueueKey(call.api), [blob]);
  }

  async cancel(api: string, callId: string): Promise<void> {
    if (this.closed) return;
    this.store.takeMarker(callId);
    this.store.publishCancel(cancelChannel(api), callId);
  }

  watchCancels(onCancel: (callId: string) => void): CancelWatch {
    if (this.closed) throw new BusClosedError('Cannot watch for cancelled calls: the RPC transport is closed');
    const unsubscribes = new Map<string, () => void>();
    return {
      add: async (api) => {
        const channel = cancelChannel(api);
        if (!unsubscribes.has(channel)) unsubscribes.set(channel, this.store.subscribeCancels(channel, onCancel));
      },
      close: async () => {
        for (const unsubscribe of unsubscribes.values()) unsubscribe();
        unsubscribes.clear();
      },
    };
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
      const left = this.store.takeMarker(call.id);
      if (left === undefined) {
        this.queues.expired(call);
        continue;
      }
      call.deadline = Date.now() + left;
      if (this.queues.answerable(call)) calls.push(call);
    }
    return calls;
  }
}
