/**
 * The server side of RPCs in the invoker: one consumer over the queues of every served API,
 * reading only as many calls as there are free slots, handing each to the executor and
 * pushing its outcome to the caller's return path. A failing handler is an error result for
 * the caller, never a reason to stop.
 *
 * A call ends early when its caller gives up: at its deadline (what its marker had left when it
 * was taken), or when the caller withdraws it (a message on the API's cancel channel). The
 * handler's signal aborts, the execution keeps its slot until the handler settles, and no
 * result is sent: nobody reads it. A call that is gone before it starts does not start.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AbortError, DeadlineExceededError } from '../errors.js';
import type { CallConsumer, CancelWatch, ResultTransport, RpcCall, RpcTransport } from '../transport/types.js';
import { formatRemoteError } from '../transport/wire/rpc.js';
import type { Executor } from './executor.js';
import type { RuntimeObserver } from './observer.js';
import type { Outcome } from './protocol.js';
import type { Slots } from './slots.js';
import { Backoff } from '../util/backoff.js';
import { Deadlines } from '../util/deadlines.js';
import { RecentSet } from '../util/recent-set.js';
import { settleWithin } from '../util/timeouts.js';

export interface RpcServerOptions {
  rpc: RpcTransport;
  results: ResultTransport;
  executor: Executor;
  slots: Slots;
  logger: Logger;
  nextExecutionId: () => number;
  /** An execution's call was withdrawn or ran out of time: what the handler is still waiting on must be withdrawn too. */
  onAbandoned: (executionId: number, reason: Error) => void;
  observer?: RuntimeObserver | undefined;
}

/** A call being executed here. */
export interface Execution {
  readonly call: RpcCall;
  readonly executionId: number;
  /** When its caller gives up (Infinity when unknown). */
  readonly expiresAt: number;
  /** Why it ended early (withdrawn, or past its deadline), once it did. */
  gone?: Error;
}

/** Withdrawn call ids remembered for a call not yet taken (the withdrawal can arrive first). */
const WITHDRAWN_REMEMBERED = 10_000;

/** The first pause after a failed read of calls (the consumer retries Redis itself: this is a safety net). */
const READ_RETRY_MS = 500;

export class RpcServer {
  private readonly apis = new Set<string>();
  private consumer: CallConsumer | undefined;
  private loop: Promise<void> | undefined;
  /** The pause of the current read loop after a failed read; stopped with its loop. */
  private readRetry = new Backoff(READ_RETRY_MS);
  private stopping = false;
  private loopDone = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly executions = new Map<number, Execution>();
  private readonly byCallId = new Map<string, Execution>();
  private readonly deadlines = new Deadlines<Execution>((execution) =>
    this.abandon(execution, new DeadlineExceededError(`RPC ${execution.call.api}.${execution.call.procedure}: its caller's deadline passed`)),
  );
  private readonly withdrawn = new RecentSet(WITHDRAWN_REMEMBERED);
  private readonly cancels: CancelWatch;

  constructor(private readonly options: RpcServerOptions) {
    this.cancels = options.rpc.watchCancels((callId) => this.withdraw(callId));
  }

  /** The execution `executionId`, when it is one of a call served here (a nested call inherits its deadline). */
  execution(executionId: number): Execution | undefined {
    return this.executions.get(executionId);
  }

  get servedApis(): string[] {
    return [...this.apis];
  }

  /** Whether the read loop ended without being stopped (it never should: health says so). */
  get loopEnded(): boolean {
    return this.loopDone && !this.stopping;
  }

  /** Adds an API to those served; the consumer is reopened over the new set of queues. */
  async serve(api: string): Promise<void> {
    if (this.apis.has(api) || this.stopping) return;
    this.apis.add(api);
    // Heard before the first call is taken: a withdrawal is never missed for being early. Not
    // hearing them (an ACL without SUBSCRIBE) costs only early ends: deadlines still apply.
    await this.cancels.add(api).catch((error: unknown) =>
      this.options.logger.warn(
        { api, err: (error as Error).message },
        'cannot hear withdrawn calls (SUBSCRIBE refused?): a call its caller aborts runs until its deadline. Grant +subscribe &lightbus:rpc_cancel:* (docs/configuration.md, "Redis ACL")',
      ),
    );
    await this.restartConsumer();
  }

  /** Stops taking the calls of an API (a reload dropped it); those in flight still answer. */
  async unserve(api: string): Promise<void> {
    if (!this.apis.delete(api) || this.stopping) return;
    if (this.apis.size > 0) return this.restartConsumer();
    // No queue left to read: end the loop (a later serve starts another).
    const consumer = this.consumer;
    this.consumer = undefined;
    this.options.slots.wakeAll();
    this.readRetry.stop();
    await consumer?.close();
    await this.loop;
  }

  /** Stops reading new calls and waits (up to `graceMs`) for those in flight to answer. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.options.slots.wakeAll();
    this.readRetry.stop();
    await this.consumer?.close();
    await this.loop;
    await settleWithin(Promise.all([...this.inFlight]), graceMs);
    this.deadlines.stop();
    await this.cancels.close();
  }

  private async restartConsumer(): Promise<void> {
    const previous = this.consumer;
    const previousLoop = this.loop;
    const previousRetry = this.readRetry;
    this.consumer = this.options.rpc.consume([...this.apis]);
    if (previous) {
      this.options.slots.wakeAll();
      previousRetry.stop();
      await previous.close();
      await previousLoop;
    }
    const consumer = this.consumer;
    this.readRetry = new Backoff(READ_RETRY_MS);
    this.loopDone = false;
    const loop = this.readLoop(consumer, this.readRetry);
    this.loop = loop;
    // A loop replaced by a new consumer ends too: only the current one counts.
    void loop.catch(() => undefined).finally(() => {
      if (this.loop === loop) this.loopDone = true;
    });
  }

  private async readLoop(consumer: CallConsumer, retry: Backoff): Promise<void> {
    const { slots, logger } = this.options;
    while (!this.stopping && this.consumer === consumer) {
      if (slots.free === 0) {
        await slots.whenFree();
        // The answers of one batch free their slots over several microtasks: gathering them
        // makes one read of many calls instead of many reads of one.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      let calls: RpcCall[];
      try {
        calls = await consumer.next(slots.free);
        retry.reset();
      } catch (error) {
        logger.error({ err: error }, 'reading RPC calls failed; retrying');
        await retry.wait();
        continue;
      }
      // A consumer answers with nothing only once it is closed.
      if (calls.length === 0) break;
      for (const call of calls) this.dispatch(call);
    }
  }

  private dispatch(call: RpcCall): void {
    const { slots, executor, nextExecutionId, logger } = this.options;
    if (this.withdrawn.has(call.id) || (call.deadline !== undefined && call.deadline <= Date.now())) {
      logger.debug({ api: call.api, procedure: call.procedure, callId: call.id }, 'RPC call dropped unstarted: its caller gave up on it');
      return;
    }
    const executionId = nextExecutionId();
    const execution: Execution = { call, executionId, expiresAt: call.deadline ?? Infinity };
    this.executions.set(executionId, execution);
    this.byCallId.set(call.id, execution);
    if (call.deadline !== undefined) this.deadlines.add(execution);
    slots.take(executionId);
    const { observer } = this.options;
    const startedAt = observer ? performance.now() : 0;
    const done = executor
      .executeRpc(call, executionId)
      .then((outcome) => {
        observer?.rpcExecuted(call.api, call.procedure, outcome, (performance.now() - startedAt) / 1000, execution.gone !== undefined);
        // The slot bounds executions: sending the answer is not one, and must not hold up the next read.
        slots.release(executionId);
        this.ended(execution);
        if (!execution.gone) return this.answer(call, outcome);
      })
      .catch((error: unknown) => logger.error({ err: error, callId: call.id }, 'could not answer an RPC call'))
      .finally(() => {
        slots.release(executionId);
        this.ended(execution);
        this.inFlight.delete(done);
      });
    this.inFlight.add(done);
  }

  private ended(execution: Execution): void {
    this.executions.delete(execution.executionId);
    this.byCallId.delete(execution.call.id);
    this.deadlines.delete(execution);
  }

  /** A caller withdrew a call: end it if it runs here, or drop it when it arrives. */
  private withdraw(callId: string): void {
    const execution = this.byCallId.get(callId);
    if (!execution) {
      this.withdrawn.add(callId);
      return;
    }
    this.abandon(execution, new AbortError(`RPC ${execution.call.api}.${execution.call.procedure} was withdrawn by its caller`));
  }

  /** Nobody waits for this call any more: its handler is told, and what it awaits is withdrawn. */
  private abandon(execution: Execution, reason: Error): void {
    if (execution.gone) return;
    execution.gone = reason;
    this.deadlines.delete(execution);
    this.options.logger.debug({ api: execution.call.api, procedure: execution.call.procedure, callId: execution.call.id, reason: reason.message }, 'RPC call abandoned by its caller');
    this.options.executor.abortRpc(execution.executionId, reason);
    this.options.onAbandoned(execution.executionId, reason);
  }

  /**
   * An error travels whole: the short text Python callers show, the stack as the trace, and the
   * error itself (data, causes) as the result's detail. It was bounded when it was serialised.
   */
  private answer(call: RpcCall, outcome: Outcome): Promise<void> {
    const id = randomUUID();
    return this.options.results.send(
      call.returnPath,
      outcome.ok
        ? { id, rpcMessageId: call.id, result: outcome.value, error: false }
        : {
            id,
            rpcMessageId: call.id,
            result: formatRemoteError(outcome.error.name, outcome.error.message),
            error: true,
            ...(outcome.error.stack ? { trace: outcome.error.stack } : {}),
            errorDetail: outcome.error,
          },
    );
  }
}
