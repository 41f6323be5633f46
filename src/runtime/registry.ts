/**
 * What the user's code registered in this thread: API implementations, listeners, tasks and
 * hooks. The functions stay here, in the thread that defined them; the invoker only ever
 * sees the serialisable descriptors ({@link Registrations}).
 */
import type { Logger } from 'pino';
import { apiSchema, type Api, type ApiSchema, type EventRef, type RpcContext, type RpcRef } from '../api/define.js';
import type { ListenerDescriptor, Registrations, ServedApiDescriptor, TaskDescriptor } from './protocol.js';

/** An event as a listener's handler receives it. */
export interface IncomingEvent<Params = Record<string, unknown>> {
  api: string;
  name: string;
  /** The message id (a UUID). */
  id: string;
  /** The entry's id in its Redis stream. */
  streamId: string;
  version: number;
  params: Params;
}

export type RpcFunction = (params: Record<string, unknown>, context: RpcContext) => unknown;
export type EventHandler = (event: IncomingEvent<any>) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
export type TaskFunction = () => unknown;
export type LifecycleHook = () => unknown;

/** Hooks around calls, fires and executions, for metrics and tracing. Each may be async. */
export interface BusHooks {
  beforeRpcCall?: (info: { api: string; procedure: string; params: Record<string, unknown> }) => unknown;
  afterRpcCall?: (info: { api: string; procedure: string; params: Record<string, unknown>; error?: Error; result?: unknown }) => unknown;
  beforeRpcExecution?: (info: { api: string; procedure: string; params: Record<string, unknown> }) => unknown;
  afterRpcExecution?: (info: { api: string; procedure: string; params: Record<string, unknown>; error?: Error; result?: unknown }) => unknown;
  beforeEventSend?: (info: { api: string; event: string; params: Record<string, unknown> }) => unknown;
  afterEventSend?: (info: { api: string; event: string; params: Record<string, unknown>; error?: Error }) => unknown;
  beforeEventExecution?: (info: { listener: string; event: IncomingEvent }) => unknown;
  afterEventExecution?: (info: { listener: string; event: IncomingEvent; error?: Error }) => unknown;
}

export interface ServedApi {
  api: Api;
  implementation: Record<string, RpcFunction>;
  deadlineMs?: number;
}

export interface RegisteredListener {
  descriptor: ListenerDescriptor;
  handler: EventHandler;
}

export class Registry {
  readonly served = new Map<string, ServedApi>();
  readonly listeners = new Map<string, RegisteredListener>();
  readonly tasks = new Map<string, { descriptor: TaskDescriptor; fn: TaskFunction }>();
  /** RPCs and events this thread knows (served, called or listened to), by `api.member`, for validation. */
  readonly knownRpcs = new Map<string, RpcRef>();
  readonly knownEvents = new Map<string, EventRef>();
  /** Schemas other processes published on the bus, kept fresh by the invoker. */
  readonly remoteSchemas = new Map<string, ApiSchema>();
  readonly startHooks: LifecycleHook[] = [];
  readonly stopHooks: LifecycleHook[] = [];
  readonly hooks: Array<BusHooks> = [];
  private schemaChanges = 0;

  /** Changes whenever a schema lookup could answer differently, so lookups can be cached until then. */
  get schemaVersion(): number {
    return this.schemaChanges;
  }

  know(api: Api): void {
    for (const ref of Object.values(api.rpcs) as RpcRef[]) this.knowRpc(ref);
    for (const ref of Object.values(api.events) as EventRef[]) this.knowEvent(ref);
  }

  knowRpc(ref: RpcRef): void {
    const key = `${ref.api}.${ref.name}`;
    if (this.knownRpcs.get(key) === ref) return;
    this.knownRpcs.set(key, ref);
    this.schemaChanges++;
  }

  knowEvent(ref: EventRef): void {
    const key = `${ref.api}.${ref.name}`;
    if (this.knownEvents.get(key) === ref) return;
    this.knownEvents.set(key, ref);
    this.schemaChanges++;
  }

  /** Replaces the remote schemas with those now on the bus. */
  setRemoteSchemas(schemas: Record<string, ApiSchema>): void {
    this.remoteSchemas.clear();
    for (const [api, schema] of Object.entries(schemas)) this.remoteSchemas.set(api, schema);
    this.schemaChanges++;
  }

  /** The schemas of an RPC: from a local definition, else from the bus. */
  rpcSchemas(api: string, name: string): { parameters: object; response: object } | undefined {
    const ref = this.knownRpcs.get(`${api}.${name}`);
    if (ref) return { parameters: ref.parametersSchema, response: ref.responseSchema };
    return this.remoteSchemas.get(api)?.rpcs[name];
  }

  /** The parameter schema of an event: from a local definition, else from the bus. */
  eventSchema(api: string, name: string): object | undefined {
    const ref = this.knownEvents.get(`${api}.${name}`);
    if (ref) return ref.parametersSchema;
    return this.remoteSchemas.get(api)?.events[name]?.parameters;
  }

  /** Whether any schema of the API is known here. */
  knowsApi(api: string): boolean {
    if (this.remoteSchemas.has(api) || this.served.has(api)) return true;
    for (const key of this.knownRpcs.keys()) if (key.startsWith(`${api}.`) && !key.slice(api.length + 1).includes('.')) return true;
    for (const key of this.knownEvents.keys()) if (key.startsWith(`${api}.`) && !key.slice(api.length + 1).includes('.')) return true;
    return false;
  }

  /** Runs one kind of hook; a failing hook is logged and never fails the work it wraps. */
  async runHook<K extends keyof BusHooks>(name: K, info: Parameters<NonNullable<BusHooks[K]>>[0], logger: Logger): Promise<void> {
    for (const hooks of this.hooks) {
      const fn = hooks[name] as ((i: typeof info) => unknown) | undefined;
      if (!fn) continue;
      try {
        await fn(info);
      } catch (error) {
        logger.warn({ err: error, hook: name }, 'hook failed');
      }
    }
  }

  addServed(served: ServedApi): ServedApiDescriptor {
    if (this.served.has(served.api.name)) {
      throw new Error(`API "${served.api.name}" is already served by this bus: call serve() once per API`);
    }
    const members = Object.keys(served.api.rpcs);
    const missing = members.filter((m) => typeof served.implementation[m] !== 'function');
    if (missing.length > 0) {
      throw new TypeError(`serve(${served.api.name}): no implementation for ${missing.map((m) => `"${m}"`).join(', ')}`);
    }
    const extra = Object.keys(served.implementation).filter((m) => !members.includes(m));
    if (extra.length > 0) {
      throw new TypeError(
        `serve(${served.api.name}): ${extra.map((m) => `"${m}"`).join(', ')} ${extra.length > 1 ? 'are' : 'is'} not RPCs of the API; add ${extra.length > 1 ? 'them' : 'it'} to defineApi()`,
      );
    }
    this.know(served.api);
    this.served.set(served.api.name, served);
    return this.describeApi(served);
  }

  addListener(listener: RegisteredListener): void {
    if (this.listeners.has(listener.descriptor.name)) {
      throw new Error(`A listener named "${listener.descriptor.name}" already exists on this bus: listener names must be unique`);
    }
    this.listeners.set(listener.descriptor.name, listener);
  }

  addTask(descriptor: TaskDescriptor, fn: TaskFunction): void {
    if (this.tasks.has(descriptor.name)) throw new Error(`A task named "${descriptor.name}" already exists on this bus`);
    this.tasks.set(descriptor.name, { descriptor, fn });
  }

  describeApi(served: ServedApi): ServedApiDescriptor {
    return {
      name: served.api.name,
      schema: apiSchema(served.api),
      ...(served.deadlineMs !== undefined ? { deadlineMs: served.deadlineMs } : {}),
    };
  }

  registrations(): Registrations {
    return {
      apis: [...this.served.values()].map((s) => this.describeApi(s)),
      listeners: [...this.listeners.values()].map((l) => l.descriptor),
      tasks: [...this.tasks.values()].map((t) => t.descriptor),
      hasStartHooks: this.startHooks.length > 0,
      hasStopHooks: this.stopHooks.length > 0,
    };
  }
}
