/**
 * Where handlers run, as the invoker sees it. The invoker depends on this interface only: the
 * worker pool runs handlers in threads (`lightbus run`), the inline executor runs them in the
 * invoker's own thread (a single-process bus, tests, debugging).
 */
import type { ApiSchema } from '../api/define.js';
import type { EventMessage, RpcCall } from '../transport/types.js';
import type { HandlerRunner } from './handler-runner.js';
import type { Outcome, Registrations } from './protocol.js';
import { RpcCallContext } from './rpc-context.js';

export interface Executor {
  executeRpc(call: RpcCall, executionId: number): Promise<Outcome>;
  /**
   * Tells the handler running `executionId` that its call was withdrawn or is past its
   * deadline (its context's signal aborts with `reason`). The execution still ends when the
   * handler settles; one that has not started does not start.
   */
  abortRpc(executionId: number, reason: Error): void;
  /**
   * Outcomes in order; fewer than the events when the listener's policy stopped the batch, or
   * when `signal` aborted first: then it resolves at once with the outcomes of the events that
   * had finished (a stopping listener acknowledges those and leaves the rest pending), and the
   * batch's later answer is ignored.
   */
  executeEvents(listener: string, events: Array<EventMessage & { streamId: string }>, executionId: number, signal?: AbortSignal): Promise<Outcome<null>[]>;
  runTask(name: string, executionId: number): Promise<Outcome<null>>;
  runHooks(phase: 'start' | 'stop'): Promise<Outcome<null>>;
  /** How many RPC executions it can take at once. */
  readonly rpcCapacity: number;
  /** Worker threads running handlers (0 when they run inline). */
  readonly workerCount: number;
  /**
   * The worker threads it runs when all are up (0 inline): what a default scales with. Not
   * {@link workerCount}, which is 0 while the threads start, when their modules already listen.
   */
  readonly threadCount: number;
  close(): Promise<void>;
}

/**
 * An executor that loads the user's modules itself, as `lightbus run` needs: the worker pool
 * (in its threads) and `--inline`'s {@link import('./inline-modules.js').InlineModuleExecutor}
 * (in the invoker's thread).
 */
export interface ModuleExecutor extends Executor {
  /** Loads the modules; resolves with what they registered. */
  start(): Promise<Registrations>;
  /** The schemas on the bus changed: validate against these from now on. */
  setSchemas(schemas: Record<string, ApiSchema>): void;
  /** Ends the handlers' threads, those that do not end within `graceMs` by force. */
  close(graceMs?: number): Promise<void>;
}

export class InlineExecutor implements Executor {
  constructor(
    private readonly runner: HandlerRunner,
    readonly rpcCapacity = 64,
  ) {}

  readonly workerCount = 0;
  readonly threadCount = 0;
  /** The RPCs running, by execution id, so {@link abortRpc} reaches their handlers. */
  private readonly rpcContexts = new Map<number, RpcCallContext>();

  executeRpc(call: RpcCall, executionId: number): Promise<Outcome> {
    const context = new RpcCallContext(call.id, call.deadline);
    this.rpcContexts.set(executionId, context);
    return this.runner.runRpc(call, executionId, context).finally(() => this.rpcContexts.delete(executionId));
  }

  abortRpc(executionId: number, reason: Error): void {
    this.rpcContexts.get(executionId)?.abort(reason);
  }

  executeEvents(listener: string, events: Array<EventMessage & { streamId: string }>, executionId: number, signal?: AbortSignal): Promise<Outcome<null>[]> {
    if (!signal) return this.runner.runEvents(listener, events, executionId);
    const finished: Outcome<null>[] = [];
    const run = this.runner.runEvents(listener, events, executionId, (index, outcome) => {
      finished[index] = outcome;
      return !signal.aborted;
    });
    return new Promise((resolve) => {
      const soFar = () => resolve(finished.slice());
      signal.addEventListener('abort', soFar, { once: true });
      void run.then((outcomes) => {
        signal.removeEventListener('abort', soFar);
        resolve(outcomes);
      });
    });
  }

  runTask(name: string, executionId: number): Promise<Outcome<null>> {
    return this.runner.runTask(name, executionId);
  }

  runHooks(phase: 'start' | 'stop'): Promise<Outcome<null>> {
    return this.runner.runHooks(phase);
  }

  async close(): Promise<void> {}
}
