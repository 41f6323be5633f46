/**
 * RPC results within one process, with the Redis transport's semantics: one result list per
 * transport instance, results pushed to the list a return path names (which expires when
 * nobody reads it), delivered asynchronously and matched by call id by the caller.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { ResultTransport, RpcResult } from '../types.js';
import { deliverResult } from '../result-delivery.js';
import { encodeResult, returnPathKey } from '../wire/rpc.js';
import { MemoryRpcStore, type PushWait } from './rpc-store.js';

/** Return paths of the memory transport: they only mean something inside this process. */
export const MEMORY_RETURN_PATH_SCHEME = 'memory+key://';

/** What {@link MemoryResultTransport} needs; the names go into its return path. */
export interface MemoryResultTransportOptions {
  rpc: ResolvedConfig['rpc'];
  logger: Logger;
  serviceName: string;
  processName: string;
  store?: MemoryRpcStore;
}

const DRAIN_COUNT = 500;

/** The result side of RPC in memory: sends results to callers' lists and receives this instance's own. */
export class MemoryResultTransport implements ResultTransport {
  readonly returnPath: string;
  private readonly resultKey: string;
  private readonly store: MemoryRpcStore;
  private readonly logger: Logger;
  private listening: Promise<void> | undefined;
  private waiting: PushWait | undefined;
  private closed = false;

  constructor(private readonly options: MemoryResultTransportOptions) {
    this.store = options.store ?? new MemoryRpcStore();
    this.resultKey = `lightbus:results:${options.serviceName}:${options.processName}:${randomBytes(6).toString('hex')}`;
    this.returnPath = MEMORY_RETURN_PATH_SCHEME + this.resultKey;
    this.logger = options.logger.child({ component: 'rpc-results' });
  }

  async send(returnPath: string, result: RpcResult): Promise<void> {
    if (this.closed) throw new BusClosedError('Cannot send an RPC result: the result transport is closed');
    const key = returnPathKey(returnPath, MEMORY_RETURN_PATH_SCHEME);
    this.store.push(key, [encodeResult(result)], this.options.rpc.resultTtlMs);
  }

  listen(onResult: (result: RpcResult) => void): void {
    if (this.closed) throw new BusClosedError('Cannot listen for RPC results: the result transport is closed');
    if (this.listening) throw new Error('listen() was already called on this result transport');
    this.listening = this.receive(onResult);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.cancel();
    await this.listening;
    if (this.listening) this.store.deleteList(this.resultKey);
  }

  private async receive(onResult: (result: RpcResult) => void): Promise<void> {
    // Results are never delivered from inside `send`: a caller sees them later, as over Redis.
    await Promise.resolve();
    while (!this.closed) {
      const blobs = this.store.pop(this.resultKey, DRAIN_COUNT);
      if (blobs.length > 0) {
        for (const blob of blobs) deliverResult(blob, onResult, this.logger, this.resultKey);
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      this.waiting = this.store.waitForPush([this.resultKey]);
      await this.waiting.pushed;
      this.waiting = undefined;
    }
  }
}
