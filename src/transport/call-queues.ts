/**
 * What the Redis and the memory call consumers share: reads that run one after another, the
 * APIs' queues taken in turn (so every API gets its turn at the head), and how a popped call
 * is read (a malformed one is logged and dropped: no caller can reliably be answered), and
 * which calls are refused for their return path.
 *
 * A call whose return path is not a result key of this transport ({@link checkReturnPath}) is
 * taken and its expiry marker deleted as for any call, then dropped unexecuted: its result could
 * not be sent anywhere, and running it would only give a caller who names other keys a way to
 * run procedures unseen. It is logged once per return path (the last {@link REFUSED_PATHS_KEPT}
 * remembered), with the call id.
 */
import type { Logger } from 'pino';
import type { RpcCall } from './types.js';
import { RecentSet } from '../util/recent-set.js';
import { checkReturnPath, decodeCall, shortened } from './wire/rpc.js';
import { PYTHON_KEYS, type KeyLayout } from './wire/key-layout.js';

/** How much of a malformed blob goes into the log line. */
const LOGGED_BLOB_CHARS = 500;
/** How many refused return paths are remembered, so each is logged once without unbounded memory. */
export const REFUSED_PATHS_KEPT = 1000;

/** Refused return paths already logged; one per transport, shared by its consumers. */
export function refusedPathLog(): RecentSet {
  return new RecentSet(REFUSED_PATHS_KEPT);
}

export class CallQueues {
  readonly keys: string[];
  readonly logger: Logger;
  /** The API of each queue key: a call's marker is named after the queue it was taken from, not the api_name its caller wrote. */
  private readonly apiOfQueue = new Map<string, string>();
  private rotation = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    apis: string[],
    logger: Logger,
    private readonly returnPathScheme: string,
    private readonly refusedPaths: RecentSet,
    readonly layout: KeyLayout = PYTHON_KEYS,
  ) {
    for (const api of apis) this.apiOfQueue.set(layout.rpcQueue(api), api);
    this.keys = [...this.apiOfQueue.keys()];
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

  /** The marker key prefix of the calls in one of these queues (in the queue's slot with the hash-tagged layout). */
  markerPrefix(queue: string): string {
    return this.layout.expiryMarkerPrefix(this.apiOfQueue.get(queue)!);
  }

  /** The marker of a call taken from one of these queues. */
  marker(queue: string, callId: string): string {
    return this.layout.expiryMarker(this.apiOfQueue.get(queue)!, callId);
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

  /** Whether a call (its marker already handled) may run: false, and logged, when its return path is refused. */
  answerable(call: RpcCall): boolean {
    const checked = checkReturnPath(call.returnPath, this.returnPathScheme);
    if ('key' in checked) return true;
    const returnPath = shortened(call.returnPath);
    if (this.refusedPaths.add(returnPath)) {
      this.logger.warn(
        { returnPath, reason: checked.refused, callId: call.id, api: call.api, procedure: call.procedure },
        'refused an RPC call: its return path is not a result key, so it was dropped unexecuted (further calls naming this return path are dropped without a log line)',
      );
    } else {
      this.logger.debug({ returnPath, callId: call.id }, 'refused an RPC call: its return path is not a result key');
    }
    return false;
  }

  expired(call: RpcCall): void {
    this.logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'dropped an expired RPC call');
  }
}
