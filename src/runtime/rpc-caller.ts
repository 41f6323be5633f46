/**
 * The caller side of RPCs in the invoker: sends calls, and matches the results arriving on the
 * process's one return path to the calls waiting for them (by call id), instead of holding a
 * blocking connection per call in flight.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  AbortError,
  BusClosedError,
  callAbortedError,
  DeadlineExceededError,
  NoServerError,
  RemoteError,
  RpcTimeoutError,
  ValidationError,
  WorkerCrashedError,
  deserializeError,
  serializeError,
  validationIssues,
  type SerializedError,
} from '../errors.js';
import type { ResultTransport, RpcCall, RpcTransport, RpcResult, TraceHeaders } from '../transport/types.js';
import { parseRemoteError } from '../transport/wire/rpc.js';
import type { Outcome } from './protocol.js';
import { Deadlines } from '../util/deadlines.js';

/** What the caller asks before sending: whether anyone serves the API (`ServerPresence`). */
export interface ServedLookup {
  /** From what this process holds, no Redis read; undefined when it cannot tell (schemas never loaded). */
  served(api: string): boolean | undefined;
  /** A fresh look in Redis; rejects when Redis does not answer. */
  recheck(api: string): Promise<boolean>;
}

/** An API's `whenNoServer` setting: refuse a call nobody serves, or send it and wait. */
export type NoServerPolicy = (api: string) => 'fail' | 'wait';

interface PendingCall {
  id: string;
  api: string;
  procedure: string;
  timeoutMs: number;
  expiresAt: number;
  resolve: (outcome: Outcome) => void;
  /** The handler execution that made it: withdrawn with that execution's own call. */
  executionId: number | undefined;
  /** Settles once the call is queued (or failed to be): a withdrawal must follow the send. Unset until it is sent. */
  sent: Promise<void> | undefined;
  /** Stops listening to the caller's signal. */
  unlisten: (() => void) | undefined;
  /** The caller's span, sent with the call. */
  trace: TraceHeaders | undefined;
}

/** What a call may carry besides its target and parameters. */
export interface CallExtras {
  /** Withdraws the call when it aborts. */
  signal?: AbortSignal;
  /** The handler execution making the call. */
  executionId?: number;
  /** The caller's trace context, sent with the call. */
  trace?: TraceHeaders;
}

export class RpcCaller {
  private readonly pending = new Map<string, PendingCall>();
  private readonly deadlines = new Deadlines<PendingCall>((call) => this.timeOut(call));
  private closed = false;

  constructor(
    private readonly rpc: RpcTransport,
    private readonly results: ResultTransport,
    private readonly presence: ServedLookup,
    private readonly whenNoServer: NoServerPolicy,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.results.listen((result) => this.settle(result));
  }

  call(api: string, procedure: string, kwargs: Record<string, unknown>, timeoutMs: number, { signal, executionId, trace }: CallExtras = {}): Promise<Outcome> {
    if (this.closed) return Promise.resolve(failure(new BusClosedError(`cannot call ${api}.${procedure}: the bus is closed`)));
    if (signal?.aborted) return Promise.resolve(failure(callAbortedError(api, procedure, signal.reason)));
    const id = randomUUID();
    return new Promise<Outcome>((resolve) => {
      const call: PendingCall = { id, api, procedure, timeoutMs, expiresAt: Date.now() + timeoutMs, resolve, executionId, sent: undefined, unlisten: undefined, trace };
      if (signal) {
        const onAbort = () => this.withdraw(call, callAbortedError(api, procedure, signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        call.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, call);
      // The deadline runs from here: a fresh look that Redis does not answer still ends on time.
      this.deadlines.add(call);
      if (this.presence.served(api) === true || this.whenNoServer(api) === 'wait') this.send(call, kwargs);
      else void this.sendIfServed(call, kwargs);
    });
  }

  /**
   * Withdraws the calls a handler execution is waiting on: its own call was withdrawn or ran
   * out of time, so nobody will read what they return. Their servers are told, and so on down.
   */
  withdrawCallsOf(executionId: number, reason: Error): void {
    for (const call of [...this.pending.values()]) {
      if (call.executionId === executionId) this.withdraw(call, new AbortError(`RPC ${call.api}.${call.procedure} was withdrawn: ${reason.message}`, { cause: reason }));
    }
  }

  /**
   * Rejects the call at once and tells its servers, once it has been queued: the withdrawal must
   * not overtake it. A call not sent yet (its server still being looked for) is never sent.
   */
  private withdraw(call: PendingCall, error: Error): void {
    if (!this.pending.has(call.id)) return;
    this.finish(call.id, failure(error));
    void call.sent?.then(() =>
      this.rpc.cancel(call.api, call.id).catch((cause: unknown) => {
        this.logger.warn({ err: cause, callId: call.id }, 'could not withdraw an RPC call; it ends at its deadline');
      }),
    );
  }

  private send(call: PendingCall, kwargs: Record<string, unknown>): void {
    const { id, api, procedure, timeoutMs, trace } = call;
    const sent: RpcCall = { id, api, procedure, kwargs, returnPath: this.results.returnPath, timeoutMs };
    if (trace !== undefined) sent.trace = trace;
    call.sent = this.rpc.send(sent).catch((error: unknown) => {
      this.finish(id, failure(error));
    });
  }

  /**
   * Nothing held says the API is served: one fresh look before refusing the call. When Redis
   * cannot answer that look, the call is sent all the same: then it times out as before, with
   * the hint of {@link timeOut}, or gets through if Redis comes back.
   */
  private async sendIfServed(call: PendingCall, kwargs: Record<string, unknown>): Promise<void> {
    let served: boolean | undefined;
    try {
      served = await this.presence.recheck(call.api);
    } catch (error) {
      this.logger.debug({ err: error, api: call.api }, 'could not look for a server of the API; sending the call all the same');
    }
    // Timed out or abandoned at close while the look was under way: nothing waits to be sent.
    if (!this.pending.has(call.id)) return;
    if (served !== false) {
      this.send(call, kwargs);
      return;
    }
    const { api, procedure } = call;
    this.finish(
      call.id,
      failure(
        new NoServerError(
          `RPC ${api}.${procedure} not sent: no process is serving API "${api}" (no live heartbeat lists it, no schema for it is on the bus): ` +
            `start a process that serves it, or check the API name; to wait up to the timeout for a server instead (during a rolling deploy), set apis.${api}.whenNoServer (or apis.default.whenNoServer) to 'wait'`,
          api,
          procedure,
        ),
      ),
    );
  }

  /** Rejects every call still waiting: nobody will read their results any more. */
  close(): void {
    this.closed = true;
    this.deadlines.stop();
    for (const [id, call] of this.pending) {
      this.finish(id, failure(new BusClosedError(`RPC ${call.api}.${call.procedure} was abandoned: the bus closed before its result arrived`)));
    }
  }

  private settle(result: RpcResult): void {
    const call = this.pending.get(result.rpcMessageId);
    if (!call) {
      // A result for a call that already timed out, or for another instance: nothing waits for it.
      this.logger.debug({ rpcMessageId: result.rpcMessageId }, 'result for a call nobody waits for; dropped');
      return;
    }
    if (!result.error) {
      this.finish(result.rpcMessageId, { ok: true, value: result.result });
      return;
    }
    // Our servers send the error whole; a Python server only its text (a repr) and trace.
    const remote: SerializedError = result.errorDetail ?? { ...parseRemoteError(String(result.result)), ...(result.trace ? { stack: result.trace } : {}) };
    const error = remoteFailure(remote, call.api, call.procedure);
    if (remote.stack) error.stack = `${error.name}: ${error.message}\n--- remote stack ---\n${remote.stack}`;
    this.finish(result.rpcMessageId, failure(error));
  }

  /**
   * Rejects at once: the hint is worded from what this process holds, since on this path Redis
   * may be the very thing that does not answer.
   */
  private timeOut(call: PendingCall): void {
    this.pending.delete(call.id);
    call.unlisten?.();
    const served = this.presence.served(call.api);
    const hint =
      served === false
        ? `no process is serving API "${call.api}" (no live heartbeat lists it, no schema for it on the bus): start one, or check the API name`
        : served === true
          ? `a process serves API "${call.api}" but did not answer in time: it may be overloaded or the handler slow; raise the timeout with { timeoutMs } or apis.${call.api}.rpcTimeoutMs`
          : `no answer, and whether any process serves API "${call.api}" is unknown (the schemas on the bus could not be read): check that Redis is reachable`;
    const { timeoutMs } = call;
    call.resolve(
      failure(new RpcTimeoutError(`RPC ${call.api}.${call.procedure} timed out after ${timeoutMs} ms: ${hint}`, call.api, call.procedure, timeoutMs)),
    );
  }

  private finish(id: string, outcome: Outcome): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    this.deadlines.delete(call);
    call.unlisten?.();
    call.resolve(outcome);
  }
}

/**
 * The error a caller gets for an error result. Failures the serving runtime itself reports
 * (bad parameters or result, a crashed worker, a deadline) come back as their own classes, so
 * callers can tell them from the handler's own errors, which are {@link RemoteError}s whose
 * cause is the remote error rebuilt (its name, message, stack, own fields and causes).
 */
function remoteFailure(remote: SerializedError, api: string, procedure: string): Error {
  const { name, message } = remote;
  const data = remote.data ?? {};
  const where = `${api}.${procedure}`;
  switch (name) {
    case 'ValidationError':
      return new ValidationError(
        message,
        typeof data['api'] === 'string' ? data['api'] : api,
        typeof data['member'] === 'string' ? data['member'] : procedure,
        validationIssues(data['issues']),
      );
    case 'WorkerCrashedError':
      return new WorkerCrashedError(`RPC ${where}: ${message}`);
    case 'DeadlineExceededError':
      return new DeadlineExceededError(`RPC ${where}: ${message}`);
    default:
      return new RemoteError(`RPC ${where} failed remotely: ${name}: ${message}`, name, remote.stack, api, procedure, remote.data, {
        cause: deserializeError(remote),
      });
  }
}

function failure(error: unknown): Outcome {
  return { ok: false, error: serializeError(error) };
}
