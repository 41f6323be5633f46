/**
 * The backend of a bus inside a worker thread of `lightbus run`: it owns no connection. Every
 * call, fire and registration becomes a command posted to the invoker in the main thread, and
 * the reply comes back on the same port, matched by request id.
 */
import type { Logger } from 'pino';
import type { BusBackend, CommandRequest } from './bus-backend.js';
import type { ResolvedConfig } from '../config/schema.js';
import { AbortError, callAbortedError, deserializeError } from '../errors.js';
import { SchemaValidator } from '../core/validator.js';
import type { ClientCommand, Reply, ToInvoker } from './protocol.js';
import { Registry } from './registry.js';

/** Where a worker thread puts its backend for `createBus()` to find (a global symbol: see create-bus.ts). */
export const kWorkerBackend = Symbol.for('lightbus.worker-backend');

export class WorkerBackend implements BusBackend {
  readonly kind = 'worker' as const;
  readonly registry = new Registry();
  readonly validator = new SchemaValidator();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private requestSeq = 0;

  constructor(
    /** Posts to the invoker (batched with the thread's other messages). */
    readonly post: (message: ToInvoker) => void,
    private readonly resolvedConfig: ResolvedConfig,
    readonly logger: Logger,
  ) {}

  config(): Promise<ResolvedConfig> {
    return Promise.resolve(this.resolvedConfig);
  }

  /**
   * Registrations are sent even before the worker is ready (they also travel with the ready
   * message): the invoker answers `listen` once the consumer group exists, so a module may
   * `await bus.listen(...).ready` at its top level and fire at once.
   */
  request(command: CommandRequest, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(abortedCall(command, signal));
    const requestId = ++this.requestSeq;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ ...command, requestId } as ClientCommand);
      if (!signal) return;
      // Rejects here and now; the invoker is told with a command of its own, and its reply, if
      // one still comes, finds nobody waiting.
      const onAbort = () => {
        if (!this.pending.delete(requestId)) return;
        this.post({ type: 'cancel', requestId });
        reject(abortedCall(command, signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(requestId, {
        resolve: (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
    });
  }

  /** The invoker answered a command. */
  settle(reply: Reply): void {
    const waiter = this.pending.get(reply.requestId);
    if (!waiter) return;
    this.pending.delete(reply.requestId);
    if (reply.outcome.ok) waiter.resolve(reply.outcome.value);
    else waiter.reject(deserializeError(reply.outcome.error));
  }

  registered(): void {}

  /** The invoker shuts workers down; a handler closing "its" bus only stops its own use of it. */
  async close(): Promise<void> {}
}

/** Only calls carry a signal (see Bus.call). */
function abortedCall(command: CommandRequest, signal: AbortSignal): Error {
  return command.type === 'call' ? callAbortedError(command.api, command.procedure, signal.reason) : new AbortError(`${command.type} was aborted`, { cause: signal.reason });
}
