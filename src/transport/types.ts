/**
 * The transports' contracts. The invoker (and nothing else) owns transports; it reads from
 * them only as fast as handlers free up, so every consumer here is pull-based: `next(max)`
 * waits for work and returns at most `max` items. Messages here are decoded domain objects;
 * the wire form lives in `src/transport/wire/`.
 */
import type { SerializedError } from '../errors.js';

/** One RPC call, as sent by a caller and received by a server. */
export interface RpcCall {
  id: string;
  api: string;
  procedure: string;
  kwargs: Record<string, unknown>;
  /** Where the result goes, e.g. `redis+key://auth.check_password:result:<id>`. */
  returnPath: string;
  /**
   * How long the caller waits for the result, ms. A sent call's expiry marker lives this long
   * (a server drops the call once it is gone); a received call has it when the caller wrote it
   * (ours do, Python callers do not).
   */
  timeoutMs?: number;
  /**
   * Received calls: the `Date.now()` time at which the caller gives up, when it is known
   * (from what is left of the marker's lifetime, or from `timeoutMs` for a call just pushed).
   */
  deadline?: number;
  /** The trace the call belongs to (W3C Trace Context), when the caller traces. */
  trace?: TraceHeaders;
}

/**
 * W3C Trace Context of a message: `traceparent` (`00-{trace id}-{parent span id}-{flags}`) and
 * the vendors' `tracestate`. Received ones are checked first (transport/wire/trace-context.ts).
 */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** The outcome of one RPC call. */
export interface RpcResult {
  id: string;
  rpcMessageId: string;
  /** The procedure's return value when `error` is false; a short text of the error otherwise. */
  result: unknown;
  error: boolean;
  /** The remote stack trace, when `error` is true. */
  trace?: string;
  /** The error's name, message, data and causes, when the server sent them (Python servers do not). */
  errorDetail?: SerializedError;
}

/** One event, as fired and as delivered. */
export interface EventMessage {
  id: string;
  api: string;
  event: string;
  version: number;
  kwargs: Record<string, unknown>;
  /** The trace the event belongs to (W3C Trace Context), when the firer traces. */
  trace?: TraceHeaders;
}

/** An event delivered to a consumer group, with what is needed to acknowledge it. */
export interface DeliveredEvent {
  message: EventMessage;
  stream: string;
  /** The entry's native id in the stream (`1795610117080-0`). */
  streamId: string;
  /** How many times the group has delivered this entry (1 on first delivery). */
  deliveries: number;
}

/** Where a new consumer group starts: `$` (new events only), `0` (all kept), a stream id or a time. */
export type Since = '$' | '0' | string | Date;

export interface EventConsumerSpec {
  /** The consumer group: `{service_name}-{listener_name}`. */
  group: string;
  /** The consumer: the process name. */
  consumer: string;
  /** The events this consumer wants; with the `per_api` layout others on the stream are acknowledged and skipped. */
  events: Array<{ api: string; event: string }>;
  since?: Since;
}

export interface EventConsumer {
  /** Resolves once every stream and consumer group exists, so events fired after it are delivered. */
  readonly ready: Promise<void>;
  /**
   * Waits until at least one event is available and returns at most `max`: first this
   * consumer's own pending entries, then entries idle past the acknowledgement timeout in
   * other consumers, then new ones. Returns `[]` once closed. Malformed entries are moved to
   * the dead-letter stream, acknowledged and never returned.
   */
  next(max: number): Promise<DeliveredEvent[]>;
  /** Acknowledges handled events (micro-batched: a tick's acks share one write). Acknowledged events leave this consumer's in-flight set. */
  ack(events: DeliveredEvent[]): Promise<void>;
  /**
   * {@link ack}, resolving as soon as the acknowledgement is certain to be applied before this
   * consumer's next read (for Redis: queued ahead of it on the same connection), not once it is
   * confirmed; a failure is logged and the events stay pending. Optional.
   */
  ackBeforeNextRead?(events: DeliveredEvent[]): Promise<void>;
  /** Copies an event to the dead-letter stream with a reason, then acknowledges it. */
  deadLetter(event: DeliveredEvent, reason: string): Promise<void>;
  /** Forgets an event without acknowledging it, so it can be redelivered (to this process or another). */
  release(events: DeliveredEvent[]): void;
  /** Stops reading; pending acknowledgements are flushed first. */
  close(): Promise<void>;
  /** How many events `next` handed out that are not yet acknowledged, dead-lettered or released (for metrics). */
  readonly held?: number;
}

/** Told once how a send ended, for {@link EventTransport.sendTo}. */
export interface SendReceiver {
  sent(streamId: string): void;
  failed(error: unknown): void;
}

export interface EventTransport {
  /** Appends an event to its stream; resolves with the stream id once Redis accepted it. */
  send(message: EventMessage): Promise<{ streamId: string }>;
  /**
   * {@link send} without a promise: the receiver is told the outcome. For bursts of fires,
   * where each promise (and, with async hooks on, each promise hook) is a measurable cost.
   */
  sendTo?(message: EventMessage, receiver: SendReceiver): void;
  consume(spec: EventConsumerSpec): EventConsumer;
  close(): Promise<void>;
}

export interface CallConsumer {
  /**
   * Waits until at least one call is available and returns at most `max`. Calls whose expiry
   * marker is gone are dropped here (at-most-once). Returns `[]` once closed.
   */
  next(max: number): Promise<RpcCall[]>;
  close(): Promise<void>;
}

export interface RpcTransport {
  /**
   * Queues a call (expiry marker first, so a fast server never sees a call without one). The
   * marker lives `call.timeoutMs`: once the caller has given up, no server starts the call.
   */
  send(call: RpcCall): Promise<void>;
  /**
   * Withdraws a call its caller gave up on: deletes its expiry marker (a server that has not
   * taken it yet drops it, ours and Python's alike) and tells the servers of its API, whose
   * {@link CancelWatch} hears it. Best effort: a call's own deadline ends it anyway.
   */
  cancel(api: string, callId: string): Promise<void>;
  /** Starts hearing the calls withdrawn with {@link cancel}, for the APIs added to the watch. */
  watchCancels(onCancel: (callId: string) => void): CancelWatch;
  /** Serves the calls of these APIs. */
  consume(apis: string[]): CallConsumer;
  close(): Promise<void>;
}

/** Hears withdrawn calls of some APIs (see {@link RpcTransport.cancel}). */
export interface CancelWatch {
  /** Hears the withdrawn calls of one more API; resolves once it is heard. */
  add(api: string): Promise<void>;
  close(): Promise<void>;
}

export interface ResultTransport {
  /** This process's return path: every call it makes names it, results are matched by call id. */
  readonly returnPath: string;
  /** Pushes a result to a caller's return path and sets its expiry, in one step (for Redis, one script run per return path per tick). */
  send(returnPath: string, result: RpcResult): Promise<void>;
  /** Starts delivering the results that arrive on {@link returnPath}. Called once. */
  listen(onResult: (result: RpcResult) => void): void;
  close(): Promise<void>;
}

/** Publishes and reads API schemas (`schema:{api}` keys and the `schemas` set). */
export interface SchemaTransport {
  store(api: string, schema: unknown, ttlMs: number): Promise<void>;
  load(): Promise<Record<string, unknown>>;
  /** Whether the API's schema is on the bus now: one key read, for a caller about to refuse a call. */
  has(api: string): Promise<boolean>;
  close(): Promise<void>;
}

/** What a running process says about itself in its heartbeat. */
export interface ProcessInfo {
  service: string;
  process: string;
  host: string;
  pid: number;
  /** The lightbus version. */
  version: string;
  apis: string[];
  listeners: string[];
  workers: number;
  startedAt: string;
  /** When this heartbeat was written (ISO time). */
  lastSeen: string;
  /** How often the process writes its heartbeat, so readers can tell when it went silent. */
  intervalMs: number;
  /** Its scheduled tasks (`every`, `schedule`); absent in heartbeats of older versions. */
  tasks?: TaskInfo[];
}

/** A scheduled task as its process reports it in the heartbeat. */
export interface TaskInfo {
  name: string;
  /** `every(everyMs)`, or `schedule(cron)`. */
  everyMs?: number;
  cron?: string;
  /** When it is next due (ISO time), as of the heartbeat. */
  nextRunAt?: string;
  /** Whether a run was going at the heartbeat. */
  running: boolean;
}

/** Heartbeats of running processes, for `lightbus inspect`. */
export interface PresenceTransport {
  beat(info: ProcessInfo): Promise<void>;
  /** Removes this process's entry (on a clean stop). */
  leave(service: string, process: string): Promise<void>;
  list(): Promise<ProcessInfo[]>;
  /** Answers once the server answers a PING (health checks bound it with a timeout). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The transports a bus process owns: built together from one config. */
/** A blocking read past its liveness deadline (see transport/redis/read-deadline.ts): what `/healthz` shows. */
export interface StalledRead {
  /** The role of its connection, as in logs and `CLIENT LIST` (`rpc:consume:auth`). */
  read: string;
  /** The command and keys it waits on (`BLPOP auth:rpc_queue`). */
  waitingOn: string;
  /** How long it has been waiting, in all. */
  waitingMs: number;
}

export interface Transports {
  rpc: RpcTransport;
  result: ResultTransport;
  event: EventTransport;
  schema: SchemaTransport;
  presence: PresenceTransport;
  /** Blocking reads stuck past their deadline now; absent where reads cannot stall (memory). */
  stalledReads?(): StalledRead[];
  close(): Promise<void>;
}
