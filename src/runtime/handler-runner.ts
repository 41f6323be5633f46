/**
 * Runs the user's handlers from a {@link Registry}: RPC implementations, event batches,
 * tasks and lifecycle hooks. It is the same code in a worker thread and in a single-process
 * bus, and it never throws: every failure becomes an {@link Outcome} carrying the error as data.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { keyLayoutOf } from '../transport/wire/key-layout.js';
import { MessageChecks } from './message-checks.js';
import { DeadlineExceededError, UnknownApiError, UnknownMemberError, ValidationError, serializeError } from '../errors.js';
import type { SchemaValidator } from '../core/validator.js';
import type { EventMessage, RpcCall } from '../transport/types.js';
import { toJsonValue } from '../transport/wire/json-values.js';
import { runInExecution } from './execution-context.js';
import { RpcCallContext } from './rpc-context.js';
import { backoffDelayMs } from '../util/backoff.js';
import { sleep, withTimeout } from '../util/timeouts.js';
import type { Outcome } from './protocol.js';
import type { BusHooks, IncomingEvent, Registry } from './registry.js';
import { traceEventHandling, traceRpcExecution, type EventSource } from '../tracing/handler-spans.js';
import { tracingOn } from '../tracing/tracer.js';

/**
 * Told as each event of a batch gets its final outcome (after its retries): event `index` is
 * done. A worker records it so that, if the thread dies, the pool knows which event killed it.
 */
/**
 * Told each event's final outcome as the batch goes. Answers `false` when the batch must end
 * there (the invoker cut it short at the end of a shutdown's grace period): the events after
 * it do not start.
 */
export type EventProgress = (index: number, outcome: Outcome<null>) => boolean | void;

/** A worker answers this (never a failure of the event) when it does not hold the listener. */
export const LISTENER_NOT_HERE = 'ListenerNotInThisThreadError';

/** The outcome of every event that succeeded: one frozen object instead of one per event. */
const OK: Outcome<null> = Object.freeze({ ok: true, value: null });

export class HandlerRunner {
  private readonly checks: MessageChecks;

  constructor(
    private readonly registry: Registry,
    validator: SchemaValidator,
    private readonly config: Pick<ResolvedConfig, 'apis' | 'serviceName' | 'events' | 'redis'>,
    private readonly logger: Logger,
  ) {
    this.checks = new MessageChecks(registry, validator, config, logger);
  }

  /**
   * Runs an RPC. `context` carries its deadline and is how the caller's withdrawal reaches the
   * handler (the worker aborts it); a call withdrawn or past its deadline before the handler
   * starts is not run.
   */
  runRpc(call: RpcCall, executionId: number, context = new RpcCallContext(call.id, call.deadline)): Promise<Outcome> {
    // With an SDK registered, the handler runs inside its `rpc.execute` span (src/tracing/).
    if (tracingOn()) return traceRpcExecution(call, keyLayoutOf(this.config.redis).rpcQueue(call.api), () => this.executeRpc(call, executionId, context));
    return this.executeRpc(call, executionId, context);
  }

  private async executeRpc(call: RpcCall, executionId: number, context: RpcCallContext): Promise<Outcome> {
    const gone = context.abortReason ?? (context.remainingMs() === 0 ? new DeadlineExceededError(`RPC ${call.api}.${call.procedure} was not started: its caller's deadline had passed`) : undefined);
    if (gone) {
      // Nobody waits for this call any more: not a failure of the handler, which never ran.
      this.logger.debug({ api: call.api, procedure: call.procedure, callId: call.id, reason: gone.message }, 'RPC call dropped before its handler started');
      return { ok: false, error: serializeError(gone) };
    }
    try {
      const served = this.registry.served.get(call.api);
      if (!served) throw new UnknownApiError(`API "${call.api}" is not served by this process`, call.api);
      const fn = served.implementation[call.procedure];
      if (!fn || !Object.hasOwn(served.api.rpcs, call.procedure)) {
        throw new UnknownMemberError(`API "${call.api}" has no RPC "${call.procedure}"`, call.api, call.procedure);
      }
      const params = this.checks.rpcParameters('incoming', call.api, call.procedure, call.kwargs);
      const info = { api: call.api, procedure: call.procedure, params };
      // Awaited only when there is something to wait for (hooks, a promise): a sync handler
      // without hooks then costs no promise but this function's own.
      const before = this.hook('beforeRpcExecution', info);
      if (before) await before;
      let result: unknown;
      try {
        result = withDeadline(
          runInExecution(executionId, () => fn(params, context)),
          served.deadlineMs,
          () => `RPC ${call.api}.${call.procedure} ran past its deadline of ${served.deadlineMs} ms`,
          (error) => context.abort(error),
        );
        if (isThenable(result)) result = await result;
        result = this.checks.rpcResult('outgoing', call.api, call.procedure, toJsonValue(result === undefined ? null : result));
      } catch (error) {
        await this.hook('afterRpcExecution', { ...info, error: error as Error });
        throw error;
      }
      const after = this.hook('afterRpcExecution', { ...info, result });
      if (after) await after;
      return { ok: true, value: result };
    } catch (error) {
      this.logger.error({ err: error, api: call.api, procedure: call.procedure, callId: call.id }, 'RPC handler failed');
      return { ok: false, error: serializeError(error) };
    }
  }

  /**
   * Runs a batch of one listener's events in order. With the `acknowledge-and-log` and
   * `retry` policies every event runs; with `shutdown` and `stop-listener` the batch stops at
   * the first failure, so the outcomes can be fewer than the events: the rest did not run and
   * must not be acknowledged. `retry` retries in place (keeping order) before reporting failure.
   */
  async runEvents(
    listenerName: string,
    events: Array<EventMessage & { streamId: string }>,
    executionId: number,
    progress?: EventProgress,
  ): Promise<Outcome<null>[]> {
    const listener = this.registry.listeners.get(listenerName);
    if (!listener) {
      // Not a failure of the event: nothing ran, so no policy may acknowledge it.
      const error = { name: LISTENER_NOT_HERE, message: `No listener named "${listenerName}" in this thread` };
      return events.length === 0 ? [] : [{ ok: false, error }];
    }
    const { handler, descriptor } = listener;
    const policy = descriptor.onError;
    const attempts = typeof policy === 'object' ? Math.max(1, policy.retry.maxAttempts) : 1;
    const backoffMs = typeof policy === 'object' ? (policy.retry.backoffMs ?? 100) : 0;
    const outcomes: Outcome<null>[] = [];
    for (const message of events) {
      let outcome: Outcome<null> = OK;
      const event = this.checkedEvent(listenerName, message);
      if (!('params' in event)) {
        outcomes.push(event);
        if (progress?.(outcomes.length - 1, event) === false) break;
        if (policy === 'shutdown' || policy === 'stop-listener') break;
        continue;
      }
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (tracingOn()) {
          // Each attempt in an `event.handle` span of its own (src/tracing/).
          const handle = () => this.runOneEvent(listenerName, handler, descriptor.deadlineMs, message, event, executionId);
          outcome = await traceEventHandling(this.eventSource(listenerName), message, attempt, handle);
        } else if (this.registry.hooks.length > 0) {
          outcome = await this.runOneEvent(listenerName, handler, descriptor.deadlineMs, message, event, executionId);
        } else {
          // Without hooks the handler's own promise is the only one awaited per event: with
          // async hooks on (AsyncLocalStorage), every extra promise per event is a cost.
          try {
            const ran = this.runHandler(listenerName, handler, descriptor.deadlineMs, event, executionId);
            if (isThenable(ran)) await ran;
            outcome = OK;
          } catch (error) {
            outcome = this.eventFailed(listenerName, message, error);
          }
        }
        if (outcome.ok || attempt === attempts) break;
        this.logger.warn({ listener: listenerName, event: `${message.api}.${message.event}`, attempt, err: outcome.error }, 'event handler failed; retrying');
        // The listener's own backoff: doubling from its backoffMs, with no cap of ours.
        await sleep(backoffDelayMs(attempt - 1, backoffMs, Infinity));
      }
      outcomes.push(outcome);
      if (progress?.(outcomes.length - 1, outcome) === false) break;
      if (!outcome.ok && (policy === 'shutdown' || policy === 'stop-listener')) break;
    }
    return outcomes;
  }

  /**
   * The event as its handler gets it, or the failed outcome of parameters that do not pass
   * validation: that is the sender's fault, the same on every attempt, so it is not retried
   * and is logged as one warn line without a stack (a flood of bad entries must not flood
   * the log); the listener's onError then settles it (`retry` dead-letters it).
   */
  private checkedEvent(listenerName: string, message: EventMessage & { streamId: string }): IncomingEvent | Outcome<null> {
    try {
      return incomingEvent(message, this.checks);
    } catch (error) {
      if (!(error instanceof ValidationError)) return this.eventFailed(listenerName, message, error);
      this.logger.warn({ listener: listenerName, event: `${message.api}.${message.event}`, eventId: message.id, streamId: message.streamId, reason: error.message.slice(0, 500) }, 'event parameters failed validation; the handler did not run');
      return { ok: false, error: serializeError(error) };
    }
  }

  /**
   * One attempt at one event with the hooks around it when there are any: the traced and hooked
   * paths, which make promises anyway (the plain path in runEvents awaits only the handler's).
   */
  private async runOneEvent(
    listenerName: string,
    handler: (event: IncomingEvent) => unknown,
    deadlineMs: number | undefined,
    message: EventMessage & { streamId: string },
    event: IncomingEvent,
    executionId: number,
  ): Promise<Outcome<null>> {
    const hooked = this.registry.hooks.length > 0;
    try {
      if (hooked) await this.hook('beforeEventExecution', { listener: listenerName, event });
      try {
        await this.runHandler(listenerName, handler, deadlineMs, event, executionId);
      } catch (error) {
        if (hooked) await this.hook('afterEventExecution', { listener: listenerName, event, error: error as Error });
        throw error;
      }
      if (hooked) await this.hook('afterEventExecution', { listener: listenerName, event });
      return OK;
    } catch (error) {
      return this.eventFailed(listenerName, message, error);
    }
  }

  /** Where a listener's events come from, as its spans name it. */
  private eventSource(listener: string): EventSource {
    return { listener, group: `${this.config.serviceName}-${listener}`, layout: this.config.events.streamUse, keys: keyLayoutOf(this.config.redis) };
  }

  /** Calls the handler inside its execution, raced against its deadline only if it returns a promise and has one. */
  private runHandler(listenerName: string, handler: (event: IncomingEvent) => unknown, deadlineMs: number | undefined, event: IncomingEvent, executionId: number): unknown {
    return withDeadline(
      runInExecution(executionId, () => handler(event)),
      deadlineMs,
      () => `listener "${listenerName}" ran past its deadline of ${deadlineMs} ms on ${event.api}.${event.name}`,
    );
  }

  private eventFailed(listenerName: string, message: EventMessage, error: unknown): Outcome<null> {
    this.logger.error({ err: error, listener: listenerName, event: `${message.api}.${message.event}`, eventId: message.id }, 'event handler failed');
    return { ok: false, error: serializeError(error) };
  }

  async runTask(name: string, executionId: number): Promise<Outcome<null>> {
    const task = this.registry.tasks.get(name);
    try {
      if (!task) throw new Error(`No task named "${name}" in this thread`);
      await runInExecution(executionId, () => task.fn());
      return { ok: true, value: null };
    } catch (error) {
      this.logger.error({ err: error, task: name }, 'scheduled task failed');
      return { ok: false, error: serializeError(error) };
    }
  }

  async runHooks(phase: 'start' | 'stop'): Promise<Outcome<null>> {
    const hooks = phase === 'start' ? this.registry.startHooks : this.registry.stopHooks;
    try {
      for (const hook of hooks) await hook();
      return { ok: true, value: null };
    } catch (error) {
      this.logger.error({ err: error, phase }, `on${phase === 'start' ? 'Start' : 'Stop'} hook failed`);
      return { ok: false, error: serializeError(error) };
    }
  }

  private hook<K extends keyof BusHooks>(name: K, info: Parameters<NonNullable<BusHooks[K]>>[0]): Promise<void> | undefined {
    if (this.registry.hooks.length === 0) return undefined;
    return this.registry.runHook(name, info, this.logger);
  }
}

/** What a handler receives; the parameters checked (and revived) against the event's schema. */
function incomingEvent(message: EventMessage & { streamId: string }, checks: MessageChecks): IncomingEvent {
  return {
    api: message.api,
    name: message.event,
    id: message.id,
    streamId: message.streamId,
    version: message.version,
    params: checks.eventParameters('incoming', message.api, message.event, message.kwargs),
  };
}

/** `value` itself when there is no deadline to race (no promise made), else the race; `onPassed` hears a deadline that won. */
function withDeadline<T>(value: T | Promise<T>, deadlineMs: number | undefined, message: () => string, onPassed?: (error: Error) => void): T | Promise<T> {
  if (!deadlineMs || !(value instanceof Promise)) return value;
  return withTimeout(value, deadlineMs, () => {
    const error = new DeadlineExceededError(message());
    onPassed?.(error);
    return error;
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
