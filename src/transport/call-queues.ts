/**
 * What the Redis and the memory call consumers share: reads that run one after another, the
 * APIs' queues taken in turn (so every API gets its turn at the head), and how a popped call
 * is read (a malformed one is logged and dropped: no caller can reliably be answered).
 */
import type { Logger } from 'pino';
import type { RpcCall } from './types.js';
import { decodeCall, rpcQueueKey } from './wire/rpc.js';

/** How much of a malformed blob goes into the log line. */
const LOGGED_BLOB_CHARS = 500;

export class CallQueues {
  readonly keys: string[];
  readonly logger: Logger;
  private rotation = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(apis: string[], logger: Logger) {
    this.keys = [...new Set(apis)].map(rpcQueueKey);
    this.logger = logger.child({ component: 'rpc-consumer', apis });
  }

  /** Runs `take` after every read before it has ended: reads share a connection or a wait. */
  serially(take: () => Promise<RpcCall[]>): Promise<RpcCall[]> {
    const run = this.tail.then(take);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the reads started so far have ended. */
  idle(): Promise<unknown> {
    return this.tail;
  }

  /** The queue keys, starting with a different one each time. */
  rotated(): string[] {
    const start = this.rotation++ % this.keys.length;
    return [...this.keys.slice(start), ...this.keys.slice(0, start)];
  }

  decode(queue: string, blob: string): RpcCall | undefined {
    const decoded = decodeCall(blob);
    if (!('malformed' in decoded)) return decoded;
    this.logger.warn({ queue, reason: decoded.malformed, blob: blob.slice(0, LOGGED_BLOB_CHARS) }, 'dropped a malformed RPC call');
    return undefined;
  }

  expired(call: RpcCall): void {
    this.logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'dropped an expired RPC call');
  }
}
