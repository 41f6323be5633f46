/**
 * The server side of RPCs in the invoker: one consumer over the queues of every served API,
 * reading only as many calls as there are free slots, handing each to the executor and
 * pushing its outcome to the caller's return path. A failing handler is an error result for
 * the caller, never a reason to stop.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallConsumer, ResultTransport, RpcCall, RpcTransport } from '../transport/types.js';
import { formatRemoteError } from '../transport/wire/rpc.js';
import type { Executor } from './executor.js';
import type { Outcome } from './protocol.js';
import type { Slots } from './slots.js';
import { Backoff } from '../util/backoff.js';
import { settleWithin } from '../util/timeouts.js';

export interface RpcServerOptions {
  rpc: RpcTransport;
  results: ResultTransport;
  executor: Executor;
  slots: Slots;
  logger: Logger;
  nextExecutionId: () => number;
}

/** The first pause after a failed read of calls (the consumer retries Redis itself: this is a safety net). */
const READ_RETRY_MS = 500;

export class RpcServer {
  private readonly apis = new Set<string>();
  private consumer: CallConsumer | undefined;
  private loop: Promise<void> | undefined;
  /** The pause of the current read loop after a failed read; stopped with its loop. */
  private readRetry = new Backoff(READ_RETRY_MS);
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: RpcServerOptions) {}

  get servedApis(): string[] {
    return [...this.apis];
  }

  /** Adds an API to those served; the consumer is reopened over the new set of queues. */
  async serve(api: string): Promise<void> {
    if (this.apis.has(api) || this.stopping) return;
    this.apis.add(api);
    await this.restartConsumer();
  }

  /** Stops reading new calls and waits (up to `graceMs`) for those in flight to answer. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.options.slots.wakeAll();
    this.readRetry.stop();
    await this.consumer?.close();
    await this.loop;
    await settleWithin(Promise.all([...this.inFlight]), graceMs);
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
    this.loop = this.readLoop(consumer, this.readRetry);
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
    const { slots, executor, nextExecutionId } = this.options;
    const executionId = nextExecutionId();
    slots.take(executionId);
    const done = executor
      .executeRpc(call, executionId)
      .then((outcome) => {
        // The slot bounds executions: sending the answer is not one, and must not hold up the next read.
        slots.release(executionId);
        return this.answer(call, outcome);
      })
      .catch((error: unknown) => this.options.logger.error({ err: error, callId: call.id }, 'could not answer an RPC call'))
      .finally(() => {
        slots.release(executionId);
        this.inFlight.delete(done);
      });
    this.inFlight.add(done);
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
