/**
 * RPC calls within one process, with the Redis transport's semantics: per-API queues, an
 * expiry marker per call (a call popped after its marker expired is dropped), fair draining
 * across APIs and a `next` that waits until something is pushed.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { CallConsumer, RpcCall, RpcTransport } from '../types.js';
import { decodeCall, encodeCall, rpcQueueKey } from '../wire/rpc.js';
import { MemoryRpcStore, type PushWait } from './rpc-store.js';

/** What {@link MemoryRpcTransport} needs: the call expiry, where to log, the shared store. */
export interface MemoryRpcTransportOptions {
  rpc: ResolvedConfig['rpc'];
  logger: Logger;
  /** Shared with the other memory transports that stand for other processes; a private one by default. */
  store?: MemoryRpcStore;
}

const LOGGED_BLOB_CHARS = 500;

/** Sends calls into a {@link MemoryRpcStore} and hands out {@link MemoryCallConsumer}s. */
export class MemoryRpcTransport implements RpcTransport {
  private readonly store: MemoryRpcStore;
  private readonly consumers = new Set<MemoryCallConsumer>();
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
    const consumer = new MemoryCallConsumer(apis, this.store, this.options.logger, () => this.consumers.delete(consumer));
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
  private readonly queues: string[];
  private readonly logger: Logger;
  private rotation = 0;
  private closed = false;
  private waiting: PushWait | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    apis: string[],
    private readonly store: MemoryRpcStore,
    logger: Logger,
    private readonly onClose: () => void,
  ) {
    this.queues = [...new Set(apis)].map(rpcQueueKey);
    this.logger = logger.child({ component: 'rpc-consumer', apis });
  }

  next(max: number): Promise<RpcCall[]> {
    const run = this.tail.then(() => this.take(Math.max(1, Math.floor(max))));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.cancel();
    await this.tail;
    this.onClose();
  }

  private async take(max: number): Promise<RpcCall[]> {
    while (!this.closed) {
      const calls = this.keepUnexpired(this.drain(max));
      if (calls.length > 0) return calls;
      this.waiting = this.store.waitForPush(this.queues);
      await this.waiting.pushed;
      this.waiting = undefined;
    }
    return [];
  }

  /** A fair share from each queue first (starting with a different one each time), then whatever is left. */
  private drain(max: number): Array<[string, string]> {
    const start = this.rotation++ % this.queues.length;
    const queues = [...this.queues.slice(start), ...this.queues.slice(0, start)];
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
      const decoded = decodeCall(blob);
      if ('malformed' in decoded) {
        this.logger.warn({ queue, reason: decoded.malformed, blob: blob.slice(0, LOGGED_BLOB_CHARS) }, 'dropped a malformed RPC call');
      } else if (!this.store.takeMarker(decoded.id)) {
        this.logger.debug({ api: decoded.api, procedure: decoded.procedure, id: decoded.id }, 'dropped an expired RPC call');
      } else {
        calls.push(decoded);
      }
    }
    return calls;
  }
}
