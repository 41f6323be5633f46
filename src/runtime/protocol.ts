/**
 * The command protocol: every message that crosses between a bus client, the invoker and
 * the worker threads. This file is the one place to read to see who talks to whom.
 *
 *   client (any thread) --ClientCommand--> invoker      the invoker owns every Redis connection
 *   invoker --Reply--> client                            answers, errors as data
 *   invoker --ToWorker--> worker                         work to run: RPCs, event batches, tasks
 *   worker --ToInvoker--> invoker                        outcomes, registrations, log lines
 *
 * Every message is plain data (structured-clone safe). Between the invoker and a worker they
 * travel in arrays: what one side posts in one microtask run is one postMessage
 * (message-batcher.ts). A worker runs quick handlers' messages together in one turn of its loop,
 * and any other alone in a turn (turn-plan.ts).
 * Requests carry a `requestId`; the answer to a request carries the same id. Errors travel as
 * {@link SerializedError}.
 */
import type { SerializedError } from '../errors.js';
import type { ApiSchema } from '../api/define.js';
import type { EventMessage, RpcCall, TraceHeaders } from '../transport/types.js';
import type { ImportedServingModule } from '../util/module-origins.js';

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** How a listener treats an event whose handler threw. */
export type OnErrorPolicy =
  | 'shutdown'
  | 'acknowledge-and-log'
  | 'stop-listener'
  | { retry: { maxAttempts: number; backoffMs?: number } };

/** A listener as the invoker sees it: everything but the handler function. */
export interface ListenerDescriptor {
  /** The listener name; the consumer group is `{service_name}-{name}`. */
  name: string;
  events: Array<{ api: string; event: string }>;
  /** `$`, `0`, a stream id, or an ISO time; only used when the group is first created. */
  since?: string;
  onError: OnErrorPolicy;
  /**
   * Batches of this listener in flight at once. Absent: the invoker's default (1, which keeps
   * stream order; with `orderBy`, two per worker thread: keyed-lanes.ts).
   */
  concurrency?: number;
  /**
   * The event parameter whose value orders events: events with the same value run one after
   * the other in stream order, others in parallel. A name, not a function: the invoker reads it
   * from the raw kwargs, and user code never runs in the invoker's thread.
   */
  orderBy?: string;
  /** Soft deadline per event; past it the event counts as failed. */
  deadlineMs?: number;
}

/** A served API as the invoker sees it. */
export interface ServedApiDescriptor {
  name: string;
  schema: ApiSchema;
  /** Soft deadline per RPC execution. */
  deadlineMs?: number;
}

/** A scheduled task as the invoker sees it. */
export interface TaskDescriptor {
  name: string;
  /** Run every `everyMs`, or on a cron schedule. */
  everyMs?: number;
  cron?: string;
  /** Run once at start too (for `every`). */
  immediate?: boolean;
}

/** Everything a thread's user modules registered. */
export interface Registrations {
  apis: ServedApiDescriptor[];
  listeners: ListenerDescriptor[];
  tasks: TaskDescriptor[];
  hasStartHooks: boolean;
  hasStopHooks: boolean;
  /** Modules not given to `run` that defined APIs and registered handlers (see util/module-origins.ts). */
  importedServing?: ImportedServingModule[];
}

export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** What `fire` answers: the message id and the stream id. */
export interface FiredEvent {
  id: string;
  streamId: string;
}

// ---------------------------------------------------------------------------------------------
// client -> invoker

export type ClientCommand =
  | {
      type: 'call';
      requestId: number;
      api: string;
      procedure: string;
      kwargs: Record<string, unknown>;
      /**
       * How long to wait for the result; without it, the API's `rpcTimeoutMs`, cut to what is
       * left of the calling RPC's own deadline (a nested call inherits it).
       */
      timeoutMs?: number;
      /**
       * The handler execution that made the call, if any: its slot is lent out while it waits,
       * and the call is withdrawn when that execution's call is.
       */
      executionId?: number;
      /** The caller holds an AbortSignal for it: a `cancel` with the same request id may follow. */
      withdrawable?: true;
      /** The caller's `rpc.call` span, to send with the call (only when tracing: src/tracing/). */
      trace?: TraceHeaders;
    }
  /** The client gave up on the call it sent as `requestId` (its AbortSignal fired): no reply. */
  | { type: 'cancel'; requestId: number }
  | {
      type: 'fire';
      requestId: number;
      api: string;
      event: string;
      kwargs: Record<string, unknown>;
      timeoutMs: number;
      executionId?: number;
      /** The firer's `event.fire` span, to write with the event (only when tracing: src/tracing/). */
      trace?: TraceHeaders;
    }
  | { type: 'serve'; requestId: number; api: ServedApiDescriptor }
  | { type: 'listen'; requestId: number; listener: ListenerDescriptor }
  | { type: 'stop-listener'; requestId: number; name: string };

/** The invoker's answer to a {@link ClientCommand}. */
export interface Reply {
  type: 'reply';
  requestId: number;
  outcome: Outcome;
}

// ---------------------------------------------------------------------------------------------
// invoker -> worker

export type ToWorker =
  | Reply
  | { type: 'execute-rpc'; requestId: number; executionId: number; call: RpcCall }
  /**
   * The caller withdrew the call run as `requestId`, or its deadline passed: abort the
   * handler's signal with `reason`. The handler's answer is still awaited (it holds its slot).
   */
  | { type: 'abort'; requestId: number; reason: SerializedError }
  | {
      type: 'execute-events';
      requestId: number;
      executionId: number;
      listener: string;
      events: Array<EventMessage & { streamId: string }>;
    }
  | { type: 'run-task'; requestId: number; executionId: number; task: string }
  | { type: 'run-hooks'; requestId: number; phase: 'start' | 'stop' }
  /** The schemas on the bus changed: validate against these from now on. */
  | { type: 'schemas'; schemas: Record<string, ApiSchema> }
  /** Finish what is in flight, flush logs, then exit. */
  | { type: 'shutdown' };

// ---------------------------------------------------------------------------------------------
// worker -> invoker

export type ToInvoker =
  | ClientCommand
  /**
   * The worker loaded the user's modules and can take work. A registrations-only worker adds
   * the schemas of the APIs the modules define, and takes no work.
   */
  | {
      type: 'ready';
      registrations: Registrations;
      schemas?: Record<string, ApiSchema>;
      /** The user's files the thread loaded, when asked for them (`reportFiles`: `run --watch` watches them). */
      files?: string[];
    }
  /** A user module failed to load: the start is aborted. */
  | { type: 'load-failed'; modulePath: string; error: SerializedError }
  /**
   * `quick`: whether this thread now counts the RPC's handler as quick (turn-plan.ts); the
   * invoker then hands the thread the other calls to it of the same read (pool.ts).
   */
  | { type: 'rpc-done'; requestId: number; outcome: Outcome; quick: boolean }
  /** One outcome per event of the batch, in order. */
  | { type: 'events-done'; requestId: number; outcomes: Outcome<null>[] }
  /**
   * An event of a batch still running failed for good (posted at once: if the thread dies
   * before the batch's answer, the pool still settles that event by its policy). Successes
   * are not posted: the shared progress counter says how far the batch got (batch-progress.ts).
   */
  | { type: 'event-failed'; requestId: number; index: number; outcome: Outcome<null> }
  | { type: 'task-done'; requestId: number; outcome: Outcome<null> }
  | { type: 'hooks-done'; requestId: number; outcome: Outcome<null> }
  /** Serialised pino records, batched. */
  | { type: 'log'; lines: string[] };

/** The data a worker thread is started with. */
export type WorkerStartData = ServingWorkerStart | RegistrationsWorkerStart;

interface WorkerStartCommon {
  workerId: number;
  modules: string[];
  /** The resolved config (plain data). */
  config: unknown;
  logLevel: string;
}

/** A worker of `lightbus run`: loads the modules, reports `ready`, then runs what it is sent. */
export interface ServingWorkerStart extends WorkerStartCommon {
  mode?: 'serve';
  /** The {@link import('./batch-progress.js').ProgressBoard} of this worker. */
  progress: SharedArrayBuffer;
  /** List the user's files loaded in `ready` (`lightbus run --watch`). */
  reportFiles?: true;
}

/**
 * A worker that only reads what the modules register (`lightbus dumpschema`): nothing it
 * registers is served and a call or fire at import time fails. It answers one `ready`, with
 * the schema of every API the modules export, serve or use, or `load-failed`, and serves nothing.
 */
export interface RegistrationsWorkerStart extends WorkerStartCommon {
  mode: 'registrations';
}
