/**
 * The bus: the one API user code sees, in a plain process and in a worker thread alike. It
 * validates what it sends and receives against the API definitions it knows, and turns every
 * call, fire and registration into a command for the invoker (see `runtime/protocol.ts`).
 */
import { apiSchema, type Api, type ApiSchema, type EventRef, type Implementation, type ParamsOf, type ResultOf, type RpcRef } from '../api/define.js';
import type { RemoteEvents, RemoteRpcs, UntypedName } from '../api/remote.js';
import { apiConfig, type ResolvedConfig } from '../config/schema.js';
import { MessageChecks } from '../runtime/message-checks.js';
import { currentExecutionId } from '../runtime/execution-context.js';
import type { FiredEvent, ListenerDescriptor, OnErrorPolicy } from '../runtime/protocol.js';
import type { BusHooks, IncomingEvent, LifecycleHook, RpcFunction } from '../runtime/registry.js';
import type { Since, TraceHeaders } from '../transport/types.js';
import { keyLayoutOf } from '../transport/wire/key-layout.js';
import { traceFire, traceRpcCall } from '../tracing/client-spans.js';
import { tracingOn } from '../tracing/tracer.js';
import { toJsonValue } from '../transport/wire/json-values.js';
import type { BusBackend, CommandRequest } from '../runtime/bus-backend.js';
import type { Logger } from 'pino';
import { redactUrl } from '../core/redact-url.js';
import { parseCronExpression } from '../runtime/cron.js';
import { noteRegistration } from '../util/module-origins.js';
import { checkListenOptions } from './listen-checks.js';
import { inspect } from 'node:util';

export interface CallOptions {
  /**
   * How long to wait for the result (default: the API's `rpcTimeoutMs`, 5000; inside an RPC
   * handler, no longer than what is left of that call's deadline). The serving process does not
   * start the call once this has passed, and its handler sees the deadline (`context.deadline`).
   */
  timeoutMs?: number;
  /**
   * Withdraws the call when it aborts: the call rejects at once with an `AbortError`, a server
   * that has not started it drops it, and the handler running it sees its `context.signal`
   * abort (as do the calls that handler is waiting on, down the chain).
   */
  signal?: AbortSignal;
}

export interface FireOptions {
  /** How long writing the event may take (default: the API's `fireTimeoutMs`, 5000). */
  timeoutMs?: number;
}

export interface ServeOptions {
  /** Soft deadline per RPC execution: past it the caller gets a `DeadlineExceededError`. */
  deadlineMs?: number;
}

/**
 * @typeParam OrderKey the parameters `orderBy` may name: those every event of the listener has.
 */
export interface ListenOptions<OrderKey extends string = string> {
  /** The listener's name; with the service name it names the consumer group (`{service}-{name}`). */
  name: string;
  /**
   * Where a new consumer group starts: `'$'` (default, only new events), `'0'` (everything
   * still in the stream), a stream id, or a `Date`. Applies only when the group is created.
   */
  since?: Since;
  /**
   * What to do when the handler throws (default `'shutdown'`, as Python Lightbus):
   * - `'shutdown'`: leave the event unacknowledged and stop the process gracefully (exit code 1);
   * - `'acknowledge-and-log'`: log the error and acknowledge the event;
   * - `'stop-listener'`: leave it unacknowledged and stop only this listener;
   * - `{ retry: { maxAttempts, backoffMs } }`: retry in place, then move it to the dead-letter stream.
   */
  onError?: OnErrorPolicy;
  /**
   * Batches of this listener handled at once. Default 1 (events are handled in stream order,
   * one batch at a time); with `orderBy`, two per worker thread.
   */
  concurrency?: number;
  /**
   * The name of an event parameter to keep order by (`'user_id'`): events with the same value
   * are handled one at a time in stream order, events with different values in parallel over
   * the worker threads. An event without the parameter (or with `null`) is ordered with no
   * other. A name rather than a function because the main thread reads it from the raw event,
   * and your code only ever runs in the worker threads. See docs/configuration.md.
   */
  orderBy?: OrderKey;
  /** Soft deadline per event. */
  deadlineMs?: number;
}

/** A running listener. */
export interface ListenerHandle {
  readonly name: string;
  /**
   * Resolves once the consumer group exists: events fired after this are delivered. (Under
   * `lightbus run --only`/`--skip` without events, at once: this process runs no listener.)
   */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

type AnyEventRef = EventRef<any, string>; // eslint-disable-line @typescript-eslint/no-explicit-any
type EventOf<R> = R extends EventRef<infer P, infer N> ? IncomingEvent<P> & { name: N } : IncomingEvent;
type EventsOf<E> = E extends readonly (infer R)[] ? EventOf<R> : EventOf<E>;
type ParamsOfRef<R> = R extends EventRef<infer P, string> ? P : Record<string, unknown>;
/** The parameters every event of `E` has (`keyof` a union is the keys its members share). */
type OrderKeyOf<E> = keyof (E extends readonly (infer R)[] ? ParamsOfRef<R> : ParamsOfRef<E>) & string;

export class Bus {
  private readiness: Promise<{ config: ResolvedConfig; checks: MessageChecks }> | undefined;
  /** The same once resolved: the hot paths skip a wait on every call. */
  private readyValue: { config: ResolvedConfig; checks: MessageChecks } | undefined;

  constructor(private readonly backend: BusBackend) {}

  /**
   * What `console.log(bus)` and the shell print: a summary. The bus's insides hold the config
   * and the Redis connections, and with them the password of the Redis URL.
   */
  [inspect.custom](): string {
    const config = this.readyValue?.config;
    if (!config) return `Bus { ${this.backend.kind} }`;
    const where = config.transport === 'memory' ? 'memory' : redactUrl(config.redis.url);
    return `Bus { service: ${JSON.stringify(config.serviceName)}, process: ${JSON.stringify(config.processName)}, ${where} }`;
  }

  /** The logger of this process (in a worker, records reach the main thread's output tagged with the worker id). */
  get logger(): Logger {
    return this.backend.logger;
  }

  /** Makes this bus aware of an API it calls or listens to, so its messages are validated. */
  use(...apis: Api[]): this {
    for (const api of apis) this.backend.registry.know(api);
    return this;
  }

  /** Serves an API: this process answers calls to its RPCs. Resolves once serving has started. */
  serve<A extends Api>(api: A, implementation: Implementation<A>, options: ServeOptions = {}): Promise<void> {
    const descriptor = this.backend.registry.addServed({
      api,
      implementation: implementation as Record<string, RpcFunction>,
      ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    });
    noteRegistration(`serves ${api.name}`);
    this.backend.registered();
    return handled(this.backend.request({ type: 'serve', api: descriptor }).then(() => undefined));
  }

  /** Calls an RPC and resolves with its result. `rpc` is a reference (`auth.rpcs.check_password`) or `"api.procedure"`. */
  call<R extends RpcRef<any, any>>(rpc: R, params: ParamsOf<R>, options?: CallOptions): Promise<ResultOf<R>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  call<N extends keyof RemoteRpcs & string>(rpc: N, params: RemoteRpcs[N]['params'], options?: CallOptions): Promise<RemoteRpcs[N]['result']>;
  call<N extends string>(rpc: UntypedName<N, RemoteRpcs>, params: Record<string, unknown>, options?: CallOptions): Promise<unknown>;
  call(rpc: RpcRef | string, params: Record<string, unknown>, options: CallOptions = {}): Promise<unknown> {
    // Traced: inside its `rpc.call` span, whose context goes with the call (src/tracing/).
    const target = tracingOn() ? this.tracedTarget(rpc) : undefined;
    if (!target) return this.sendCall(rpc, params, options);
    const traced = (config: ResolvedConfig) =>
      traceRpcCall(target.api, target.name, keyLayoutOf(config.redis).rpcQueue(target.api), (trace) => this.sendCall(rpc, params, options, trace));
    // The span names the queue, which `redis.keys` names: known once the bus is ready.
    return this.readyValue ? traced(this.readyValue.config) : this.ready().then(({ config }) => traced(config));
  }

  /** What a traced send's span names; undefined for a bad name, which the send rejects. */
  private tracedTarget(ref: RpcRef | EventRef | string): { api: string; name: string } | undefined {
    try {
      return this.target(ref);
    } catch {
      return undefined;
    }
  }

  private sendCall(rpc: RpcRef | string, params: Record<string, unknown>, options: CallOptions, trace?: TraceHeaders): Promise<unknown> {
    // Without hooks nothing needs awaiting around the request: no async frame per call (as for fire).
    const ready = this.readyValue;
    if (ready === undefined || this.backend.registry.hooks.length > 0) return this.callWithHooks(rpc, params, options, trace);
    try {
      const command = this.callCommand(rpc, params, options, ready, trace);
      return this.backend.request(command, options.signal).then((value) => ready.checks.rpcResult('incoming', command.api, command.procedure, value));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async callWithHooks(rpc: RpcRef | string, params: Record<string, unknown>, options: CallOptions, trace: TraceHeaders | undefined): Promise<unknown> {
    const ready = this.readyValue ?? (await this.ready());
    const command = this.callCommand(rpc, params, options, ready, trace);
    const info = { api: command.api, procedure: command.procedure, params: command.kwargs };
    await this.hook('beforeRpcCall', info);
    try {
      const result = ready.checks.rpcResult('incoming', command.api, command.procedure, await this.backend.request(command, options.signal));
      await this.hook('afterRpcCall', { ...info, result });
      return result;
    } catch (error) {
      await this.hook('afterRpcCall', { ...info, error: error as Error });
      throw error;
    }
  }

  /** The `call` command, its parameters converted and validated. */
  private callCommand(
    rpc: RpcRef | string,
    params: Record<string, unknown>,
    options: CallOptions,
    { checks, config }: { config: ResolvedConfig; checks: MessageChecks },
    trace: TraceHeaders | undefined,
  ): Extract<CommandRequest, { type: 'call' }> {
    const { api, name } = this.target(rpc);
    if (typeof rpc !== 'string') this.backend.registry.knowRpc(rpc);
    const kwargs = checks.rpcParameters('outgoing', api, name, toJsonValue(params) as Record<string, unknown>);
    const command: Extract<CommandRequest, { type: 'call' }> = { type: 'call', api, procedure: name, kwargs };
    // Without one, the invoker takes the API's timeout, or what is left of the calling RPC's deadline.
    if (options.timeoutMs !== undefined) command.timeoutMs = options.timeoutMs;
    const executionId = currentExecutionId();
    if (executionId !== undefined) command.executionId = executionId;
    if (options.signal) command.withdrawable = true;
    if (trace) command.trace = trace;
    return command;
  }

  /** Fires an event; resolves with its message id and stream id once Redis has it. */
  fire<E extends AnyEventRef>(event: E, params: ParamsOf<E>, options?: FireOptions): Promise<FiredEvent>;
  fire<N extends keyof RemoteEvents & string>(event: N, params: RemoteEvents[N]['params'], options?: FireOptions): Promise<FiredEvent>;
  fire<N extends string>(event: UntypedName<N, RemoteEvents>, params: Record<string, unknown>, options?: FireOptions): Promise<FiredEvent>;
  fire(event: EventRef | string, params: Record<string, unknown>, options: FireOptions = {}): Promise<FiredEvent> {
    if (tracingOn()) return this.tracedFire(event, params, options);
    return this.sendFire(event, params, options);
  }

  /** The fire inside its `event.fire` span, whose context is written with the event (src/tracing/). */
  private async tracedFire(event: EventRef | string, params: Record<string, unknown>, options: FireOptions): Promise<FiredEvent> {
    const { config } = this.readyValue ?? (await this.ready());
    const target = this.tracedTarget(event);
    if (!target) return this.sendFire(event, params, options);
    const stream = keyLayoutOf(config.redis).stream(target.api, target.name, config.events.streamUse);
    return traceFire(target.api, target.name, stream, (trace) => this.sendFire(event, params, options, trace));
  }

  private sendFire(event: EventRef | string, params: Record<string, unknown>, options: FireOptions, trace?: TraceHeaders): Promise<FiredEvent> {
    // Without hooks nothing needs awaiting before the request: no async frame per fire, which a
    // burst of thousands of fires (all alive at once) pays for in garbage collection.
    if (this.readyValue === undefined || this.backend.registry.hooks.length > 0) return this.fireWithHooks(event, params, options, trace);
    try {
      return this.backend.request(this.fireCommand(event, params, options, this.readyValue, trace)) as Promise<FiredEvent>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async fireWithHooks(event: EventRef | string, params: Record<string, unknown>, options: FireOptions, trace: TraceHeaders | undefined): Promise<FiredEvent> {
    const command = this.fireCommand(event, params, options, this.readyValue ?? (await this.ready()), trace);
    const info = { api: command.api, event: command.event, params: command.kwargs };
    await this.hook('beforeEventSend', info);
    try {
      const fired = (await this.backend.request(command)) as FiredEvent;
      await this.hook('afterEventSend', info);
      return fired;
    } catch (error) {
      await this.hook('afterEventSend', { ...info, error: error as Error });
      throw error;
    }
  }

  /** The `fire` command, its parameters converted and validated. */
  private fireCommand(
    event: EventRef | string,
    params: Record<string, unknown>,
    options: FireOptions,
    { checks, config }: { config: ResolvedConfig; checks: MessageChecks },
    trace: TraceHeaders | undefined,
  ): Extract<CommandRequest, { type: 'fire' }> {
    const { api, name } = this.target(event);
    if (typeof event !== 'string') this.backend.registry.knowEvent(event);
    const kwargs = checks.eventParameters('outgoing', api, name, toJsonValue(params) as Record<string, unknown>);
    const command: Extract<CommandRequest, { type: 'fire' }> = { type: 'fire', api, event: name, kwargs, timeoutMs: options.timeoutMs ?? apiConfig(config, api).fireTimeoutMs };
    const executionId = currentExecutionId();
    if (executionId !== undefined) command.executionId = executionId;
    if (trace) command.trace = trace;
    return command;
  }

  /**
   * Listens to one or more events (of one or several APIs) with one handler, under one
   * listener name. Each service's listener gets every event once, shared among its processes.
   */
  listen<const E extends AnyEventRef | string | readonly (AnyEventRef | string)[]>(
    events: E,
    options: ListenOptions<OrderKeyOf<E>>,
    handler: (event: EventsOf<E>) => unknown,
  ): ListenerHandle {
    const refs = (Array.isArray(events) ? events : [events]) as Array<EventRef | string>;
    checkListenOptions(refs, options);
    const { concurrency, orderBy } = options;
    const descriptor: ListenerDescriptor = {
      name: options.name,
      events: refs.map((r) => this.target(r)).map(({ api, name }) => ({ api, event: name })),
      onError: options.onError ?? 'shutdown',
      // Without orderBy, 1 here; with it, left to the invoker, which knows how many threads run handlers.
      ...(concurrency !== undefined || orderBy === undefined ? { concurrency: concurrency ?? 1 } : {}),
      ...(orderBy !== undefined ? { orderBy } : {}),
      ...(options.since !== undefined ? { since: options.since instanceof Date ? options.since.toISOString() : options.since } : {}),
      ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    };
    for (const ref of refs) if (typeof ref !== 'string') this.backend.registry.knowEvent(ref);
    this.backend.registry.addListener({ descriptor, handler: handler as (event: IncomingEvent) => unknown });
    noteRegistration(`listens as ${options.name}`);
    this.backend.registered();
    const ready = handled(this.backend.request({ type: 'listen', listener: descriptor }).then(() => undefined));
    return {
      name: options.name,
      ready,
      stop: async () => {
        await this.backend.request({ type: 'stop-listener', name: options.name });
        this.backend.registry.listeners.delete(options.name);
      },
    };
  }

  /** Runs `fn` every `intervalMs`, once per process, never overlapping itself. */
  every(intervalMs: number, fn: () => unknown, options: { name?: string; immediate?: boolean } = {}): void {
    if (!Number.isFinite(intervalMs) || intervalMs < 1) throw new RangeError(`every(): intervalMs must be >= 1, got ${intervalMs}`);
    const name = options.name ?? (fn.name || `every-${intervalMs}ms-${this.backend.registry.tasks.size}`);
    this.backend.registry.addTask({ name, everyMs: intervalMs, ...(options.immediate ? { immediate: true } : {}) }, fn);
    noteRegistration(`runs task ${name}`);
    this.backend.registered();
  }

  /** Runs `fn` on a cron schedule (`'*\/5 * * * *'`), once per process, never overlapping itself. */
  schedule(cron: string, fn: () => unknown, options: { name?: string } = {}): void {
    parseCronExpression(cron);
    const name = options.name ?? (fn.name || `cron-${cron}`);
    this.backend.registry.addTask({ name, cron }, fn);
    noteRegistration(`runs task ${name}`);
    this.backend.registered();
  }

  /** Runs once per process when the bus starts (in `lightbus run`: in one worker, after every worker is ready). */
  onStart(fn: LifecycleHook): void {
    this.backend.registry.startHooks.push(fn);
    this.backend.registered();
  }

  /** Runs once per process when the bus stops, before connections close. */
  onStop(fn: LifecycleHook): void {
    this.backend.registry.stopHooks.push(fn);
  }

  /** Adds hooks around calls, fires and executions (metrics, tracing). */
  addHooks(hooks: BusHooks): void {
    this.backend.registry.hooks.push(hooks);
  }

  /**
   * The schemas this bus knows, by API: those published on the bus (by any process, in any
   * language) and those of the APIs it serves itself.
   */
  async schemas(): Promise<Record<string, ApiSchema>> {
    await this.ready();
    const out: Record<string, ApiSchema> = Object.fromEntries(this.backend.registry.remoteSchemas);
    for (const served of this.backend.registry.served.values()) out[served.api.name] = apiSchema(served.api);
    return out;
  }

  /** Stops serving and listening (in-flight handlers finish), closes every connection. */
  close(): Promise<void> {
    return this.backend.close();
  }

  private target(ref: RpcRef | EventRef | string): { api: string; name: string } {
    if (typeof ref !== 'string') return { api: ref.api, name: ref.name };
    const dot = ref.lastIndexOf('.');
    if (dot <= 0 || dot === ref.length - 1) {
      throw new TypeError(`"${ref}" is not a member name: write it as "api.member", e.g. "auth.check_password"`);
    }
    return { api: ref.slice(0, dot), name: ref.slice(dot + 1) };
  }

  /** The config and the message checks, once the backend knows its config. */
  private ready(): Promise<{ config: ResolvedConfig; checks: MessageChecks }> {
    this.readiness ??= this.backend.config().then((config) => {
      this.readyValue = { config, checks: new MessageChecks(this.backend.registry, this.backend.validator, config, this.backend.logger) };
      return this.readyValue;
    });
    return this.readiness;
  }

  private hook<K extends keyof BusHooks>(name: K, info: Parameters<NonNullable<BusHooks[K]>>[0]): Promise<void> | undefined {
    // Most buses have no hooks: then there is nothing to wait for on the hot path.
    if (this.backend.registry.hooks.length === 0) return undefined;
    return this.backend.registry.runHook(name, info, this.backend.logger);
  }
}

/** Marks a promise as handled, so ignoring it (fire-and-forget `serve()`) never crashes the process; awaiting it still throws. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
