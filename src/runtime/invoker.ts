/**
 * The invoker: the one owner of the transports. Bus clients (in any thread) send it commands;
 * it calls and serves RPCs, fires events, runs listeners and publishes schemas, and hands every
 * piece of user code to an {@link Executor}. It never runs user code itself, so no handler can
 * stall a read, an acknowledgement or a heartbeat.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import { apiConfig, type ResolvedConfig } from '../config/schema.js';
import { AbortError, BusClosedError, DeadlineExceededError, LightbusError, serializeError } from '../errors.js';
import type { StalledRead, Transports } from '../transport/types.js';
import { EventFirer, type FireCommand } from './event-firer.js';
import type { Executor } from './executor.js';
import { Heartbeat } from './heartbeat.js';
import { ListenerLoop } from './listener-loop.js';
import type { RuntimeLevels, RuntimeObserver } from './observer.js';
import type { ClientCommand, FiredEvent, ListenerDescriptor, Outcome, Registrations, ServedApiDescriptor } from './protocol.js';
import type { RegistrationChanges } from './registration-changes.js';
import { RpcCaller } from './rpc-caller.js';
import { RemoteSchemaWatcher } from './remote-schemas.js';
import { RpcServer } from './rpc-server.js';
import { SchemaPublisher } from './schema-publisher.js';
import { ServerPresence } from './server-presence.js';
import { Slots } from './slots.js';
import { TaskScheduler } from './task-scheduler.js';

export interface InvokerOptions {
  config: ResolvedConfig;
  transports: Transports;
  executor: Executor;
  logger: Logger;
  /** A listener's `shutdown` policy fired (or another fatal condition): stop and exit 1. */
  onShutdownRequested?: (reason: Error) => void;
  /** The schemas on the bus changed (and once at start): hand them to the threads that validate. */
  onRemoteSchemas?: (schemas: Record<string, ApiSchema>) => void;
  /** Told of every call, execution, fire and batch (metrics); absent, the hot paths skip it. */
  observer?: RuntimeObserver | undefined;
}

type CallCommand = Omit<Extract<ClientCommand, { type: 'call' }>, 'requestId'>;

/** How often the schemas on the bus are reloaded (more often when schemas live shorter). */
const SCHEMA_RELOAD_MS = 10_000;

export class Invoker {
  private readonly caller: RpcCaller;
  private readonly server: RpcServer;
  private readonly rpcSlots: Slots;
  private readonly publisher: SchemaPublisher;
  private readonly listeners = new Map<string, ListenerLoop>();
  /** Every worker registers the same APIs (at import and in its ready message): served once each. */
  private readonly serving = new Map<string, Promise<void>>();
  private readonly scheduler: TaskScheduler;
  private readonly remoteSchemas: RemoteSchemaWatcher;
  private readonly presence: ServerPresence;
  private readonly heartbeat: Heartbeat;
  private readonly firer: EventFirer;
  private executionSeq = 0;
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: InvokerOptions) {
    const { transports, logger, executor, config } = options;
    this.presence = new ServerPresence(
      {
        local: (api) => this.serving.has(api),
        schemas: () => this.remoteSchemas.schemas,
        loaded: () => this.remoteSchemas.loaded,
        schema: transports.schema,
        presence: transports.presence,
      },
      logger,
    );
    this.caller = new RpcCaller(transports.rpc, transports.result, this.presence, (api) => apiConfig(config, api).whenNoServer, logger);
    this.rpcSlots = new Slots(executor.rpcCapacity);
    this.server = new RpcServer({
      rpc: transports.rpc,
      results: transports.result,
      executor,
      slots: this.rpcSlots,
      logger,
      nextExecutionId: () => this.nextExecutionId(),
      onAbandoned: (executionId, reason) => this.caller.withdrawCallsOf(executionId, reason),
      observer: options.observer,
    });
    this.publisher = new SchemaPublisher(transports.schema, config.schema.ttlMs, logger);
    this.scheduler = new TaskScheduler(executor, logger, () => this.nextExecutionId());
    this.remoteSchemas = new RemoteSchemaWatcher(
      transports.schema,
      Math.min(SCHEMA_RELOAD_MS, config.schema.ttlMs / 2),
      logger,
      (schemas) => options.onRemoteSchemas?.(schemas),
      () => this.presence.refresh(),
    );
    this.firer = new EventFirer({
      config,
      transport: transports.event,
      targets: {
        published: (api) => this.presence.published(api),
        reload: () => this.remoteSchemas.reload(),
      },
      logger,
      observer: options.observer,
    });
    this.heartbeat = new Heartbeat(
      transports.presence,
      {
        service: config.serviceName,
        process: config.processName,
        apis: () => this.servedApis,
        listeners: () => this.listenerNames,
        tasks: () => this.scheduler.tasks(),
        workers: () => executor.workerCount,
      },
      logger,
    );
    this.caller.start();
  }

  /** Loads the schemas on the bus (and keeps them fresh); callers validate against them. */
  start(): Promise<void> {
    this.heartbeat.start();
    return this.remoteSchemas.start();
  }

  nextExecutionId(): number {
    return ++this.executionSeq;
  }

  get servedApis(): string[] {
    return this.server.servedApis;
  }

  get listenerNames(): string[] {
    return [...this.listeners.keys()];
  }

  /** Slots in use, events held and lag, for metrics: counters kept anyway, no Redis read. */
  levels(): RuntimeLevels {
    return {
      rpcSlots: { used: this.rpcSlots.limit - this.rpcSlots.free, limit: this.rpcSlots.limit },
      workers: this.options.executor.workerCount,
      listeners: [...this.listeners.values()].map((loop) => loop.levels()),
    };
  }

  /** Each read loop: still reading, stopped on purpose, or ended when it should not have (for health checks). */
  loopStates(): Array<{ loop: string; state: 'reading' | 'stopped' | 'ended' }> {
    const rpc = this.server.servedApis.length === 0 ? [] : [{ loop: 'rpc', state: this.server.loopEnded ? ('ended' as const) : ('reading' as const) }];
    return [...rpc, ...[...this.listeners.values()].map((loop) => ({ loop: `listener:${loop.name}`, state: loop.state }))];
  }

  /** Blocking reads past their liveness deadline now (for health checks). */
  stalledReads(): StalledRead[] {
    return this.options.transports.stalledReads?.() ?? [];
  }

  /** Resolves once Redis answers a PING (for health checks, which bound it). */
  ping(): Promise<void> {
    return this.options.transports.presence.ping();
  }

  /**
   * Handles one command from a bus client. Never rejects: failures are outcomes. `signal`
   * withdraws a call (the thread's own signal, relayed: see command-forwarder.ts).
   */
  async handle(command: ClientCommand, signal?: AbortSignal): Promise<Outcome> {
    if (this.closing && command.type !== 'stop-listener') {
      return { ok: false, error: { name: 'BusClosedError', message: `cannot ${command.type}: the bus is closing` } };
    }
    try {
      switch (command.type) {
        case 'call':
          return await this.call(command, signal);
        case 'cancel':
          // Relayed as a signal before it gets here (command-forwarder.ts): nothing is left to do.
          return { ok: true, value: null };
        case 'fire':
          return { ok: true, value: await this.fire(command) };
        case 'serve':
          await this.serve(command.api);
          return { ok: true, value: null };
        case 'listen':
          await this.listen(command.listener);
          return { ok: true, value: null };
        case 'stop-listener':
          await this.listeners.get(command.name)?.stop(this.options.config.runner.shutdownGraceMs);
          this.listeners.delete(command.name);
          return { ok: true, value: null };
      }
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  }

  /**
   * Takes what a thread's modules registered (several workers report the same listeners and tasks: once each).
   * Then a heartbeat: a module that serves at import was already served, and announced, while
   * its thread loaded, with no worker ready yet; this one says how many are.
   */
  async register(registrations: Registrations): Promise<void> {
    for (const task of registrations.tasks) this.scheduler.add(task);
    try {
      await Promise.all([
        ...registrations.apis.map((api) => this.serve(api)),
        ...registrations.listeners.map((listener) => this.listen(listener)),
      ]);
    } finally {
      this.heartbeat.beatNow();
    }
  }

  /**
   * Applies what a reload changed (`lightbus run --watch`): serves and listens to what is new,
   * republishes changed schemas, restarts changed listeners (same group, so nothing is skipped
   * or read twice), and stops what the new code no longer registers.
   */
  async update({ apis, listeners, tasks }: RegistrationChanges): Promise<void> {
    if (this.draining) throw new BusClosedError('cannot apply a reload: the bus is stopping');
    for (const task of [...tasks.removed, ...tasks.changed.map((t) => t.name)]) this.scheduler.remove(task);
    for (const task of [...tasks.added, ...tasks.changed]) this.scheduler.add(task);
    const grace = this.options.config.runner.shutdownGraceMs;
    const stopListener = async (name: string) => {
      await this.listeners.get(name)?.stop(grace);
      this.listeners.delete(name);
    };
    await Promise.all([
      ...listeners.removed.map(stopListener),
      ...listeners.changed.map((listener) => stopListener(listener.name).then(() => this.listen(listener))),
      ...apis.removed.map(async (api) => {
        this.serving.delete(api);
        this.publisher.unpublish(api);
        await this.server.unserve(api);
      }),
      ...apis.added.map((api) => this.serve(api)),
      ...apis.changed.map((api) => this.publisher.publish(api.name, api.schema)),
      ...listeners.added.map((listener) => this.listen(listener)),
    ]);
    if (apis.changed.length > 0) await this.remoteSchemas.reload();
    this.heartbeat.beatNow();
  }

  /**
   * Stops taking work (tasks, RPCs, events) and waits up to `graceMs` for what is in flight to
   * finish and be acknowledged. Calls and fires still work until {@link close}.
   */
  drain(graceMs = this.options.config.runner.shutdownGraceMs): Promise<void> {
    this.draining ??= (async () => {
      this.publisher.stop();
      this.remoteSchemas.stop();
      await this.scheduler.stop();
      await Promise.all([this.server.stop(graceMs), ...[...this.listeners.values()].map((l) => l.stop(graceMs))]);
    })();
    return this.draining;
  }

  /** Drains, then closes every connection; calls still waiting fail with `BusClosedError`. */
  close(graceMs = this.options.config.runner.shutdownGraceMs): Promise<void> {
    this.closing ??= (async () => {
      await this.drain(graceMs);
      await this.heartbeat.stop();
      this.firer.stop();
      this.caller.close();
      await this.options.transports.close();
      this.options.logger.debug('invoker closed');
    })();
    return this.closing;
  }

  /**
   * Calls an RPC; the outcome is the result or the error as data. A process bus calls this
   * directly. A call made by an RPC handler inherits its deadline (unless it sets its own
   * timeout) and is withdrawn with it (see RpcServer).
   */
  call(command: CallCommand, signal?: AbortSignal): Promise<Outcome> {
    const { executionId, api, procedure } = command;
    const parent = executionId === undefined ? undefined : this.server.execution(executionId);
    if (parent?.gone) return Promise.resolve({ ok: false, error: serializeError(new AbortError(`RPC ${api}.${procedure} was not sent: ${parent.gone.message}`, { cause: parent.gone })) });
    let timeoutMs = command.timeoutMs ?? apiConfig(this.options.config, api).rpcTimeoutMs;
    if (command.timeoutMs === undefined && parent && parent.expiresAt !== Infinity) {
      const left = parent.expiresAt - Date.now();
      if (left <= 0) return Promise.resolve({ ok: false, error: serializeError(new DeadlineExceededError(`RPC ${api}.${procedure} was not sent: the calling RPC's deadline has passed`)) });
      timeoutMs = Math.min(timeoutMs, left);
    }
    // Most calls have none of these: no object for them on the hot path.
    const { trace } = command;
    const extras = signal || parent || trace ? { ...(signal ? { signal } : {}), ...(parent ? { executionId } : {}), ...(trace ? { trace } : {}) } : undefined;
    const { observer } = this.options;
    const called = () => {
      const calling = this.caller.call(api, procedure, command.kwargs, timeoutMs, extras);
      return observer ? this.observedCall(observer, api, procedure, calling) : calling;
    };
    // The calling handler waits on this call: lend its slot out so the callee can run, even
    // when the callee is served by this very process and every slot is taken.
    if (executionId === undefined || !this.rpcSlots.has(executionId)) return called();
    this.rpcSlots.suspend(executionId);
    return called().finally(() => this.rpcSlots.resume(executionId));
  }

  private observedCall(observer: RuntimeObserver, api: string, procedure: string, calling: Promise<Outcome>): Promise<Outcome> {
    const startedAt = performance.now();
    return calling.then((outcome) => {
      observer.rpcCalled(api, procedure, outcome, (performance.now() - startedAt) / 1000);
      return outcome;
    });
  }

  /**
   * Writes an event; resolves with its message id and stream id, rejects with the error itself
   * (not an outcome): a process bus calls this directly, as a burst of fires is a hot path.
   */
  fire(command: FireCommand): Promise<FiredEvent> {
    if (this.closing) return Promise.reject(new BusClosedError('cannot fire: the bus is closing'));
    return this.firer.fire(command);
  }

  private serve(api: ServedApiDescriptor): Promise<void> {
    // Drained loops are not restarted: something registered while stopping must not outlive the stop.
    if (this.draining) return Promise.reject(new BusClosedError(`cannot serve ${api.name}: the bus is stopping`));
    let serving = this.serving.get(api.name);
    if (!serving) {
      serving = this.startServing(api);
      this.serving.set(api.name, serving);
      serving.catch(() => this.serving.delete(api.name));
    }
    return serving;
  }

  private async startServing(api: ServedApiDescriptor): Promise<void> {
    await this.server.serve(api.name);
    await this.publisher.publish(api.name, api.schema);
    await this.remoteSchemas.reload();
    this.heartbeat.beatNow();
  }

  private async listen(descriptor: ListenerDescriptor): Promise<void> {
    const existing = this.listeners.get(descriptor.name);
    if (existing) return existing.ready;
    if (this.draining) throw new BusClosedError(`cannot listen as "${descriptor.name}": the bus is stopping`);
    const { config, transports, executor, logger } = this.options;
    if (descriptor.events.length === 0) throw new LightbusError(`listener "${descriptor.name}" listens to no events`);
    const consumer = transports.event.consume({
      group: `${config.serviceName}-${descriptor.name}`,
      consumer: config.processName,
      events: descriptor.events,
      ...(descriptor.since !== undefined ? { since: descriptor.since } : {}),
    });
    const loop = new ListenerLoop({
      descriptor,
      consumer,
      executor,
      batchSize: config.events.batchSize,
      logger,
      nextExecutionId: () => this.nextExecutionId(),
      onShutdownRequested: (reason) => this.requestShutdown(reason),
      observer: this.options.observer,
    });
    this.listeners.set(descriptor.name, loop);
    loop.start();
    await loop.ready;
    this.heartbeat.beatNow();
  }

  private requestShutdown(reason: Error): void {
    if (this.options.onShutdownRequested) this.options.onShutdownRequested(reason);
    else void this.close();
  }
}
