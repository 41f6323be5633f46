/**
 * The executor of `lightbus run --watch`: a worker pool that a pool running the modules' new
 * code can replace without a restart of the process (the invoker, its Redis connections and
 * its slots stay). A reload starts a whole new pool beside the one serving. If its modules fail
 * to load, it is discarded and the old pool goes on serving. Once every new thread is ready,
 * new work goes to the new pool alone, and the old pool finishes the work it holds (no call or
 * event in flight is lost, and its crash handling still applies to it), runs its modules'
 * onStop hooks, and ends its threads.
 *
 * While a new pool loads, what its modules register at import (`serve`, `listen`) is answered
 * here, not sent to the invoker: the old code is still the one served, and the invoker takes
 * the new registrations all at once, from their difference with the old ones, after the swap
 * (BusRunner.reload). Only `--watch` builds this; without it the invoker holds the pool itself.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import { BusClosedError, ModuleLoadError } from '../errors.js';
import type { EventMessage, RpcCall } from '../transport/types.js';
import { settleWithin } from '../util/timeouts.js';
import type { CommandHandler } from './command-forwarder.js';
import type { ModuleExecutor } from './executor.js';
import type { WorkerPool } from './pool.js';
import type { ClientCommand, Outcome, Registrations } from './protocol.js';

/** A pool of threads that load the modules as they are now; its commands go to `onCommand`. */
export type PoolFactory = (onCommand: CommandHandler) => WorkerPool;

export type ReloadResult =
  | { ok: true; registrations: Registrations; previous: Registrations }
  | { ok: false; error: ModuleLoadError };

export interface ReloadingPoolOptions {
  makePool: PoolFactory;
  /** Where the serving pool's commands go (the invoker). */
  onCommand: CommandHandler;
  logger: Logger;
  /** How long the old pool's work may run before a warning says it still runs (runner.shutdownGraceMs). */
  retireGraceMs: number;
  /** What ending a retired pool's threads may take before they are terminated. */
  closeGraceMs: number;
}

/** One pool and the work it was handed that has not settled. */
class Generation {
  inFlight = 0;
  /** Set once it serves: from then on its registrations reach the invoker. */
  serving = false;
  registrations: Registrations | undefined;
  private whenIdle: (() => void) | undefined;
  readonly pool: WorkerPool;

  constructor(makePool: PoolFactory, onCommand: CommandHandler) {
    this.pool = makePool((command, signal) => (this.serving || !isRegistration(command) ? onCommand(command, signal) : Promise.resolve(REGISTERED)));
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight++;
    return work.finally(() => {
      if (--this.inFlight === 0) this.whenIdle?.();
    });
  }

  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => (this.whenIdle = resolve));
  }
}

const REGISTERED: Outcome = { ok: true, value: null };

function isRegistration(command: ClientCommand): boolean {
  return command.type === 'serve' || command.type === 'listen' || command.type === 'stop-listener';
}

export class ReloadingPool implements ModuleExecutor {
  private current: Generation;
  /** A pool loading the new code, until it serves or is discarded. */
  private loading: Generation | undefined;
  private readonly retiring = new Set<Generation>();
  private schemas: Record<string, ApiSchema> | undefined;
  private closed = false;

  constructor(private readonly options: ReloadingPoolOptions) {
    this.current = new Generation(options.makePool, options.onCommand);
    this.current.serving = true;
  }

  get rpcCapacity(): number {
    return this.current.pool.rpcCapacity;
  }

  get workerCount(): number {
    return this.current.pool.workerCount;
  }

  get threadCount(): number {
    return this.current.pool.threadCount;
  }

  /** The user's files the serving threads loaded. */
  get loadedFiles(): string[] {
    return this.current.pool.loadedFiles;
  }

  async start(): Promise<Registrations> {
    this.current.registrations = await this.current.pool.start();
    return this.current.registrations;
  }

  /**
   * Starts a pool on the modules as they are now and, once its threads are ready, serves with
   * it instead; the old pool retires in the background. A module that fails to load leaves the
   * old pool serving.
   */
  async reload(): Promise<ReloadResult> {
    if (this.closed) throw new BusClosedError('cannot reload: the worker pool is closed');
    if (this.loading) throw new Error('a reload is already under way');
    const next = new Generation(this.options.makePool, this.options.onCommand);
    if (this.schemas) next.pool.setSchemas(this.schemas);
    this.loading = next;
    try {
      next.registrations = await next.pool.start();
    } catch (error) {
      // start() has ended the threads it started.
      if (error instanceof ModuleLoadError) return { ok: false, error };
      throw error;
    } finally {
      this.loading = undefined;
    }
    if (this.closed) {
      await next.pool.close(this.options.closeGraceMs);
      throw new BusClosedError('cannot reload: the worker pool closed while the new code loaded');
    }
    const previous = this.current;
    next.serving = true;
    this.current = next;
    void this.retire(previous);
    return { ok: true, registrations: next.registrations, previous: previous.registrations! };
  }

  executeRpc(call: RpcCall, executionId: number): Promise<Outcome> {
    return this.current.track(this.current.pool.executeRpc(call, executionId));
  }

  abortRpc(executionId: number, reason: Error): void {
    // It may run in a retiring pool: each pool aborts only what it runs.
    for (const generation of [this.current, ...this.retiring]) generation.pool.abortRpc(executionId, reason);
  }

  executeEvents(listener: string, events: Array<EventMessage & { streamId: string }>, executionId: number, signal?: AbortSignal): Promise<Outcome<null>[]> {
    return this.current.track(this.current.pool.executeEvents(listener, events, executionId, signal));
  }

  runTask(name: string, executionId: number): Promise<Outcome<null>> {
    return this.current.track(this.current.pool.runTask(name, executionId));
  }

  runHooks(phase: 'start' | 'stop'): Promise<Outcome<null>> {
    return this.current.track(this.current.pool.runHooks(phase));
  }

  setSchemas(schemas: Record<string, ApiSchema>): void {
    this.schemas = schemas;
    for (const generation of this.generations()) generation.pool.setSchemas(schemas);
  }

  async close(graceMs = this.options.closeGraceMs): Promise<void> {
    this.closed = true;
    await Promise.all(this.generations().map((generation) => generation.pool.close(graceMs)));
  }

  private generations(): Generation[] {
    return [this.current, ...this.retiring, ...(this.loading ? [this.loading] : [])];
  }

  /** Lets the old pool finish its work (however long: it is work someone waits for), then ends it. */
  private async retire(generation: Generation): Promise<void> {
    const { logger, retireGraceMs, closeGraceMs } = this.options;
    this.retiring.add(generation);
    try {
      const idle = generation.idle();
      if (!(await settleWithin(idle, retireGraceMs))) {
        logger.warn({ inFlight: generation.inFlight, waitedMs: retireGraceMs }, 'handlers of the old code are still running; its threads end when they finish');
        await idle;
      }
      if (this.closed) return;
      if (generation.registrations?.hasStopHooks) {
        const outcome = await generation.pool.runHooks('stop');
        if (!outcome.ok) logger.error({ err: outcome.error }, 'an onStop hook of the old code failed');
      }
      await generation.pool.close(closeGraceMs);
    } finally {
      this.retiring.delete(generation);
    }
  }
}
